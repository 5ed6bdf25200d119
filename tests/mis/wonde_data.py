"""A Wonde-shaped copy of the demo school (schoolgate.mis.demo), made from the school's
objects, not from its files, for the Wonde connector tests."""

from schoolgate.mis.demo import School

PHONE_KEYS = {"H": "home", "M": "mobile", "W": "work"}


def wonde_records(school: School, *, lessons_for_every_other_class: bool = True) -> dict:
    student_ids = {id(pupil): f"S{n:05d}" for n, pupil in enumerate(school.pupils, start=1)}
    contact_ids: dict[int, str] = {}
    students = []
    for pupil in school.pupils:
        contacts = []
        for link in pupil.links:
            person = link.person
            contact_id = contact_ids.setdefault(id(person), f"C{len(contact_ids) + 1:05d}")
            phones = {"phone": None, "home": None, "work": None, "mobile": None, "primary": None}
            for kind, number in person.phones:
                phones[PHONE_KEYS.get(kind, "phone")] = number
            contacts.append(
                {
                    "id": contact_id,
                    "title": person.title,
                    "forename": person.forename,
                    "surname": person.surname,
                    "relationship": {
                        "relationship": link.relationship,
                        "bill_payer": None,
                        "lives_with_pupil": link.lives_with_pupil,
                        "court_order": link.court_order,
                        "parental_responsibility": link.responsibility,
                        "priority": link.order,
                    },
                    "contact_details": {
                        "data": {
                            "emails": {"email": person.email or None, "primary": None},
                            "phones": phones,
                        }
                    },
                }
            )
        students.append(
            {
                "id": student_ids[id(pupil)],
                "mis_id": str(len(students) + 1),
                "forename": pupil.preferred_forename,
                "surname": pupil.surname,
                "legal_forename": pupil.forename,
                "legal_surname": pupil.surname,
                "date_of_birth": {
                    "date": f"{pupil.date_of_birth.isoformat()} 00:00:00.000000",
                    "timezone_type": 3,
                    "timezone": "Europe/London",
                },
                "education_details": {"data": {"upn": pupil.upn, "current_nc_year": pupil.year}},
                "year": {"data": {"code": str(pupil.year), "name": f"Year {pupil.year}"}},
                "contacts": {"data": contacts},
            }
        )
    employees = [
        {
            "id": member.mis_id,
            "title": member.title,
            "forename": member.forename,
            "surname": member.surname,
            "contact_details": {"data": {"emails": {"email": member.email}}},
            "employment_details": {"data": {"job_title": member.role}},
        }
        for member in school.staff
    ]
    classes, groups, lessons = [], [], []
    for n, group in enumerate(school.groups):
        record = {
            "id": group.mis_id,
            "name": group.name,
            "students": {"data": [{"id": student_ids[id(p)]} for p in group.pupils]},
            "employees": {"data": [{"id": t.mis_id} for t in group.teachers]},
        }
        if group.kind == "class":
            record["subject"] = {"data": {"name": group.subject}}
            if lessons_for_every_other_class and n % 2:
                # This class's teachers are known only from its lessons.
                record["employees"] = {"data": []}
                lessons += [
                    {"id": f"L{len(lessons) + 1}", "class": group.mis_id, "employee": t.mis_id}
                    for t in group.teachers
                ]
            classes.append(record)
        else:
            groups.append({**record, "type": "REGISTRATION"})
    groups.append({"id": "Y7", "name": "Year 7", "type": "YEAR", "students": {"data": []}})
    return {
        "students": students,
        "employees": employees,
        "classes": classes,
        "groups": groups,
        "lessons": lessons,
    }
