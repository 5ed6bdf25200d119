"""A realistic synthetic school, written as real MIS exports: a CTF and a timetable CSV.

The demo and the benchmarks load these files through the real importers, so they
exercise what a school's own files would, messiness included (siblings, separated
parents, missing, invalid and shared emails, court orders). Same seed, same files.

Only reserved names are used: emails at example.com/.org/.net, Ofcom's drama numbers."""

import csv
import heapq
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from django.contrib.auth.models import Group as Role
from django.db import transaction
from django.db.models import Count, Q

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ADMINISTRATORS, TEACHERS
from schoolgate.core.emails import normalise_email
from schoolgate.mis import models as mirror
from schoolgate.mis.access import ALL, PRIMARY, qualifying_links
from schoolgate.mis.signals import demo_school_ready
from schoolgate.mis.sync import sync_mis

DEFAULT_PUPILS = 1000
DEFAULT_SEED = 1
MIN_PUPILS = 30  # below this the deliberate data problems no longer fit
YEARS = (7, 8, 9, 10, 11)
FORM_SIZE = 28
CLASS_SIZE = 28
GROUPS_PER_TEACHER = 10  # classes and tutor groups a teacher has, on average
STAFF_PER_1000_PUPILS = 70
SCHOOL_NAME = "Schoolgate Demo Academy"
CTF_NAME = "school.ctf.xml"
TIMETABLE_NAME = "timetable.csv"
TIMETABLE_COLUMNS = (
    "group_id",
    "group_type",
    "group_name",
    "subject",
    "year_group",
    "member_type",
    "member_id",
    "title",
    "forename",
    "surname",
    "email",
    "role",
)
PARENT_DOMAINS = ("example.com", "example.com", "example.net")
STAFF_DOMAIN = "example.org"
RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
# The demo's sign-ins share one published password: a local demo, never real data.
DEMO_PASSWORD = "schoolgate-demo"
DEMO_ADMIN_EMAIL = "admin@demo.schoolgate.test"

# Household kinds and how often they occur among families.
KINDS = (
    ("together", 0.58),
    ("single", 0.15),
    ("separated", 0.14),
    ("step", 0.08),
    ("kinship", 0.03),
    ("foster", 0.02),
)
# Families made first so that every problem the Data Dashboard reports is present at
# any size; the rest of the school gets these problems at random, at realistic rates.
SPECIAL_FAMILIES = (
    ("together", "shared_email"),
    ("together", "shared_email"),
    ("together", "shared_email"),
    ("separated", "court_order"),
    ("single", "sole_pr_no_email"),
    ("kinship", ""),
    ("together", "invalid_email_at"),
    ("together", "invalid_email_words"),
)
PR_NO_EMAIL_RATE = 0.05
OTHER_NO_EMAIL_RATE = 0.3
INVALID_EMAIL_RATE = 0.004
SHARED_EMAIL_RATE = 0.015
COURT_ORDER_RATE = 0.03

CORE_SUBJECTS = (("English", "En"), ("Maths", "Ma"), ("Science", "Sc"))
KS3_FORM_SUBJECTS = (
    ("History", "Hi"),
    ("Geography", "Gg"),
    ("French", "Fr"),
    ("Art", "Ar"),
    ("Music", "Mu"),
    ("PE", "PE"),
    ("Computing", "Co"),
    ("RE", "RE"),
)
KS4_FORM_SUBJECTS = (("PE", "PE"), ("RE", "RE"))
# GCSE options, with how popular each is; a pupil in years 10-11 takes four.
OPTIONS = (
    ("History", "Hi", 3.0),
    ("Geography", "Gg", 3.0),
    ("French", "Fr", 2.0),
    ("Spanish", "Sp", 1.5),
    ("Art", "Ar", 1.5),
    ("Music", "Mu", 1.0),
    ("Computing", "Co", 2.0),
    ("Design and Technology", "DT", 1.5),
    ("Drama", "Dr", 1.0),
    ("Business", "Bs", 1.5),
)
OPTIONS_PER_PUPIL = 4
LEADERSHIP_ROLES = ("Headteacher", "Deputy Headteacher", "Deputy Headteacher", "SENCO")
SUPPORT_ROLES = (
    "Business Manager",
    "Office Manager",
    "Data Manager",
    "Receptionist",
    "Attendance Officer",
    "Exams Officer",
    "Finance Officer",
    "Teaching Assistant",
    "Cover Supervisor",
    "Teaching Assistant",
    "Learning Mentor",
    "Teaching Assistant",
)
FORM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
LA_CODES = (350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 343, 344)
SCHOOL_LA, SCHOOL_ESTAB, SCHOOL_URN = "352", "4999", "999999"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_ADULT = _words(
    "Sarah Emma Claire Lisa Nicola Rachel Laura Helen Joanne Kelly Gemma Louise Michelle "
    "Rebecca Victoria Amanda Donna Kirsty Natalie Jennifer Katie Hannah Charlotte Samantha "
    "Stacey Leanne Jade Kerry Zoe Emily Amy Lucy Sophie Catherine Elizabeth Jessica Fiona "
    "Karen Angela Dawn Tracey Joanna Alison Anna Hayley Jodie Stephanie Carly Kate Siobhan "
    "Aisha Fatima Nadia Priya Sunita Ayesha Shazia Farah Agnieszka Katarzyna Magdalena Siân "
    "Rhiannon Bethan Grace Naomi Ruth Esther Abimbola Chioma Funmilayo Mei Ioana Elena Maria "
    "Ana Nasreen Yasmin Roisin Aoife Kimberley Danielle Lindsey Paula Sharon Julie Debbie"
)
MALE_ADULT = _words(
    "David Paul Mark Andrew Richard James Daniel Christopher Michael Matthew Stephen Lee "
    "Darren Craig Gareth Jason Neil Simon Steven Martin Ian Jonathan Thomas Robert Carl Adam "
    "Ben Tom Jamie Ryan Dean Wayne Scott Kevin Gary Anthony Peter John Mohammed Imran Tariq "
    "Asif Rajesh Sanjay Arjun Piotr Tomasz Marek Kwame Tunde Emeka Dafydd Rhys Owen Liam Sean "
    "Aled Hamza Omar Yusuf Wei Nathan Luke Shaun Stuart Graham Kieran Declan Patrick Ravi "
    "Sunil Vikram Adrian Russell Philip Nigel Dominic Marcus Ashley Gavin Barry"
)
FEMALE_GRAND = _words("Margaret Patricia Susan Linda Christine Janet Carol Elaine Brenda Jean")
MALE_GRAND = _words("Brian Keith Alan Roger Colin Terry Derek Malcolm Trevor Geoffrey")
GIRLS = _words(
    "Olivia Amelia Isla Ava Emily Grace Lily Mia Ella Evie Ruby Poppy Freya Isabella Chloe "
    "Jessica Sophie Millie Daisy Phoebe Holly Erin Scarlett Evelyn Florence Matilda Imogen "
    "Maisie Eva Zara Aisha Amira Maryam Zainab Hafsa Aaliyah Inaya Oliwia Zuzanna Lena Zoë "
    "Niamh Seren Ffion Caitlin Esme Harriet Rosie Layla Summer Ellie Megan Lacey Tia Amber "
    "Anaya Willow Harper Aria Sienna Elsie Mila Hannah Bethany Abigail Alice Lucy"
)
BOYS = _words(
    "Oliver Jack Harry George Noah Charlie Jacob Alfie Freddie Oscar Leo Logan Archie Theo "
    "Thomas James Joshua William Henry Ethan Isaac Max Lucas Daniel Samuel Joseph Alexander "
    "Mohammed Muhammad Ibrahim Yusuf Ayaan Zayn Adam Riley Finley Harrison Jenson Toby Reuben "
    "Arthur Louie Dylan Kai Tyler Jayden Callum Kacper Jakub Filip Rhys Osian Cian Tobi Kofi "
    "Dev Elliot Frankie Teddy Jude Ronnie Hugo Sebastian Rory Ollie Harvey Mason"
)
NICKNAMES = {
    "Alexander": "Alex",
    "Samuel": "Sam",
    "Joshua": "Josh",
    "William": "Will",
    "Thomas": "Tom",
    "Daniel": "Danny",
    "Joseph": "Joe",
    "Isabella": "Bella",
    "Jessica": "Jess",
    "Matilda": "Tilly",
    "Florence": "Flo",
    "Harriet": "Hattie",
    "Oliwia": "Olivia",
    "Jakub": "Kuba",
    "Mohammed": "Mo",
    "Sebastian": "Seb",
    "Abigail": "Abi",
}
SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb "
    "Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes "
    "Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham "
    "Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds "
    "Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer "
    "Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong "
    "Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page "
    "Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson "
    "Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson "
    "Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren "
    "Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor "
    "Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter "
    "Osborne Johnston Gordon Doyle Wallace Akhtar Lynch Goodwin Barton Quinn Baxter Bibi Miah "
    "Kowalski Nowak Okafor Adeyemi Mensah Nguyen Chen Wong Fernandes Smith-Jones Ahmed-Khan "
    "Mahmood Rahman Iqbal Chowdhury Sharma Gupta Kumar Okonkwo Boateng Lewandowski"
) + ("Da Silva",)
# Ofcom's numbers reserved for drama: they ring no one.
DRAMA_MOBILE = "07700 900"
DRAMA_LANDLINES = (
    "0161 496 0",
    "0161 496 0",
    "0113 496 0",
    "0114 496 0",
    "0115 496 0",
    "0121 496 0",
    "0151 496 0",
    "020 7946 0",
)


@dataclass(eq=False)
class Person:
    """A contact as a person: the same object under each of their children."""

    title: str
    forename: str
    surname: str
    gender: str
    email: str = ""
    phones: list[tuple[str, str]] = field(default_factory=list)  # (type, number)


@dataclass(eq=False)
class Link:
    """A person as one pupil's contact: priority, PR and flags belong here."""

    person: Person
    order: int
    relationship: str
    responsibility: bool
    court_order: bool = False
    lives_with_pupil: bool = True
    shouted_email: bool = False  # written in capitals under this pupil, as some records are


@dataclass(eq=False)
class Pupil:
    upn: str
    forename: str
    surname: str
    preferred_forename: str
    gender: str
    date_of_birth: date
    year: int
    ability: float
    links: list[Link] = field(default_factory=list)  # in file order, not priority order


@dataclass(eq=False)
class StaffMember:
    mis_id: str
    title: str
    forename: str
    surname: str
    email: str
    role: str


@dataclass(eq=False)
class Group:
    mis_id: str
    kind: str  # "registration" or "class"
    name: str
    subject: str
    year: int
    teachers: list[StaffMember] = field(default_factory=list)
    pupils: list[Pupil] = field(default_factory=list)


@dataclass(eq=False)
class Family:
    kind: str
    flag: str
    surname: str
    children: list[Pupil] = field(default_factory=list)
    cast: list[Link] = field(default_factory=list)  # the contacts as the first child has them


@dataclass
class School:
    """The generated school: what the two files say, as objects."""

    academic_year: int
    pupils: list[Pupil]
    contacts: list[Person]
    families: list[Family]
    staff: list[StaffMember]
    groups: list[Group]
    name: str = SCHOOL_NAME

    def counts(self) -> dict[str, int]:
        return {
            "pupils": len(self.pupils),
            "contacts": len(self.contacts),
            "links": sum(len(p.links) for p in self.pupils),
            "staff": len(self.staff),
            "groups": len(self.groups),
            "memberships": sum(len(g.pupils) for g in self.groups),
            "group_teachers": sum(len(g.teachers) for g in self.groups),
        }


@dataclass
class GeneratedSchool:
    school: School
    ctf: Path
    timetable: Path

    @property
    def paths(self) -> list[Path]:
        return [self.ctf, self.timetable]


def current_academic_year(today: date | None = None) -> int:
    """The calendar year the current school year started in (it starts in September)."""
    today = today or date.today()
    return today.year if today.month >= 9 else today.year - 1


def upn_check_letter(digits: str) -> str:
    """The DfE check letter for a UPN's twelve digits (weights 2 to 13, modulo 23)."""
    total = sum(int(d) * weight for d, weight in zip(digits, range(2, 14), strict=True))
    return UPN_CHECK_LETTERS[total % 23]


def is_reserved_email(email: str) -> bool:
    """Whether an address is at a domain reserved for examples, so no real person's."""
    domain = email.rpartition("@")[2].casefold()
    return any(domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS)


class DemoError(Exception):
    """The demo cannot be set up; the message says why."""


@dataclass(frozen=True)
class DemoSignIn:
    role: str
    email: str
    name: str
    about: str


@dataclass
class DemoResult:
    sign_ins: list[DemoSignIn]
    counts: dict[str, int]
    run: mirror.SyncRun | None = None  # the sync that loaded the school, when this call did
    directory: Path | None = None


def set_up_demo(
    *, directory: str | Path, pupils: int = DEFAULT_PUPILS, seed: int = DEFAULT_SEED
) -> DemoResult:
    """Load the generated school if the mirror is empty, then make sure the three demo
    sign-ins and the demo parents' evening exist. Running it again changes nothing."""
    run = None
    if not mirror.Pupil.objects.exists():
        generated = generate_school(directory, pupils=pupils, seed=seed)
        run = sync_mis(generated.paths, trigger=mirror.SyncRun.Trigger.COMMAND)
        if run.status != mirror.SyncRun.Status.SUCCEEDED:
            problems = "; ".join(error["text"] for error in run.errors[:5])
            raise DemoError(f"The generated demo school did not load (sync {run.pk}): {problems}")
    teacher, classes = demo_teacher()
    parent, children = demo_parent()
    if teacher is None or parent is None:
        # Never hand out a known password for a real school's people.
        raise DemoError(
            "The MIS mirror already holds a school that is not the generated demo school, "
            "so no demo sign-ins were created. Use an empty database for the demo "
            "(e.g. SCHOOLGATE_DATA_DIR=/tmp/schoolgate-demo)."
        )
    with transaction.atomic():
        _keep_or_create_user(
            DEMO_ADMIN_EMAIL,
            first_name="Demo",
            last_name="Administrator",
            is_staff=True,
            is_superuser=True,
            role=ADMINISTRATORS,
        )
        _keep_or_create_user(
            teacher.email_key,
            first_name=teacher.forename,
            last_name=teacher.surname,
            is_staff=True,
            role=TEACHERS,
        )
        _keep_or_create_user(parent.email_key, first_name=parent.forename, last_name=parent.surname)
    # Apps above the mirror add their part (a published evening the parent can book).
    demo_school_ready.send(sender=None)
    names = " and ".join(child.display_name for child in children)
    return DemoResult(
        sign_ins=[
            DemoSignIn("Administrator", DEMO_ADMIN_EMAIL, "Demo Administrator", "every page"),
            DemoSignIn(
                "Teacher",
                teacher.email_key,
                teacher.display_name,
                f"{teacher.role}, teaches {classes} classes",
            ),
            DemoSignIn("Parent", parent.email_key, parent.display_name, f"parent of {names}"),
        ],
        counts={
            "pupils": mirror.Pupil.objects.filter(on_roll=True).count(),
            "contacts": mirror.Contact.objects.count(),
            "staff": mirror.Staff.objects.filter(current=True).count(),
        },
        run=run,
        directory=Path(directory) if run else None,
    )


def _reserved_email(field: str) -> Q:
    query = Q()
    for domain in RESERVED_DOMAINS:
        query |= Q(**{f"{field}__endswith": f"@{domain}"})
        query |= Q(**{f"{field}__endswith": f".{domain}"})
    return query


def demo_teacher() -> tuple[mirror.Staff | None, int]:
    """The generated teacher with the most classes (and how many), if the mirror has one."""
    teacher = (
        mirror.Staff.objects.filter(_reserved_email("email_key"), current=True)
        .annotate(
            classes=Count(
                "groupteacher",
                filter=Q(
                    groupteacher__group__kind=mirror.TeachingGroup.Kind.CLASS,
                    groupteacher__group__current=True,
                ),
            )
        )
        .filter(classes__gte=2)
        .order_by("-classes", "surname", "forename", "mis_id")
        .first()
    )
    return teacher, (teacher.classes if teacher else 0)


def demo_parent() -> tuple[mirror.Contact | None, list[mirror.Pupil]]:
    """A generated contact who sees exactly two children whichever contacts the school
    gives accounts to (PR, priority 1, a valid unshared email), and those children."""

    def with_two_children(mode: str):
        return (
            qualifying_links(mode=mode)
            .values("contact_id")
            .annotate(children=Count("pupil_id", distinct=True))
            .filter(children=2)
            .values("contact_id")
        )

    parent = (
        mirror.Contact.objects.filter(_reserved_email("email_key"))
        .filter(pk__in=with_two_children(PRIMARY))
        .filter(pk__in=with_two_children(ALL))
        .order_by("surname", "forename", "mis_id")
        .first()
    )
    if parent is None:
        return None, []
    children = mirror.Pupil.objects.filter(
        pk__in=qualifying_links(mode=PRIMARY).filter(contact=parent).values("pupil_id")
    ).order_by("-year_group", "legal_forename")
    return parent, list(children)


def _keep_or_create_user(email: str, *, role: str = "", **fields) -> User:
    """The existing account, untouched; or a new one with the demo password. An account
    made by account generation and never activated gets the demo password too. A staff
    sign-in is put in its built-in role, so that the Roles page and the user list show
    the role the person really has (and its permissions apply)."""
    user = User.objects.filter(email=normalise_email(email)).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, **fields)
    elif not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if role:
        user.groups.add(*Role.objects.filter(name=role))
    return user


def generate_school(
    outdir: str | Path,
    *,
    pupils: int = DEFAULT_PUPILS,
    seed: int = DEFAULT_SEED,
    academic_year: int | None = None,
) -> GeneratedSchool:
    """Build a school and write OUTDIR/school.ctf.xml and OUTDIR/timetable.csv."""
    school = build_school(pupils=pupils, seed=seed, academic_year=academic_year)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ctf, timetable = outdir / CTF_NAME, outdir / TIMETABLE_NAME
    write_ctf(school, ctf)
    write_timetable(school, timetable)
    return GeneratedSchool(school=school, ctf=ctf, timetable=timetable)


def build_school(
    *, pupils: int = DEFAULT_PUPILS, seed: int = DEFAULT_SEED, academic_year: int | None = None
) -> School:
    """The school as objects; a pure function of its arguments."""
    if pupils < MIN_PUPILS:
        raise ValueError(f"a demo school needs at least {MIN_PUPILS} pupils, not {pupils}")
    return _Builder(seed=seed, academic_year=academic_year or current_academic_year()).build(pupils)


class _Builder:
    def __init__(self, *, seed: int, academic_year: int):
        self.rng = random.Random(seed)
        self.academic_year = academic_year
        self.emails: set[str] = set()
        self.identities: set[tuple[str, str, str]] = set()
        self.upns: set[str] = set()
        self.people: list[Person] = []

    # -- families and contacts ---------------------------------------------------------

    def build(self, total: int) -> School:
        families = self._plan_families(total)
        for family in families:
            self._cast(family)
            self._link(family)
        self._settle_identities()
        pupils = sorted(
            (child for family in families for child in family.children),
            key=lambda p: (p.year, p.surname, p.forename, p.upn),
        )
        groups, staff = self._timetable(pupils)
        return School(
            academic_year=self.academic_year,
            pupils=pupils,
            contacts=self.people,
            families=families,
            staff=staff,
            groups=groups,
        )

    def _plan_families(self, total: int) -> list[Family]:
        rng = self.rng
        room = {year: total // len(YEARS) for year in YEARS}
        for year in YEARS[: total % len(YEARS)]:
            room[year] += 1
        left = total
        families: list[Family] = []
        # The first family is the demo parent's: two children, a mother who is the
        # first contact with PR and her own valid email under both.
        plans = [("together", "demo", 2)] + [(k, f, 1) for k, f in SPECIAL_FAMILIES]
        while left > 0:
            if plans:
                kind, flag, size = plans.pop(0)
            else:
                kind, flag, size = self._random_kind(), "", self._family_size()
            size = min(size, left)
            years = self._years_for(size, room)
            family = Family(kind=kind, flag=flag, surname=rng.choice(SURNAMES))
            for year in years:
                family.children.append(self._pupil(family.surname, year))
            families.append(family)
            left -= size
        return families

    def _random_kind(self) -> str:
        roll, total = self.rng.random(), 0.0
        for kind, share in KINDS:
            total += share
            if roll < total:
                return kind
        return KINDS[0][0]

    def _family_size(self) -> int:
        # About 15% of families have two or three children at the school.
        roll = self.rng.random()
        return 3 if roll < 0.025 else 2 if roll < 0.15 else 1

    def _years_for(self, size: int, room: dict[int, int]) -> list[int]:
        """Distinct year groups for siblings where there is room (twins otherwise)."""
        years: list[int] = []
        for _child in range(size):
            open_years = [y for y in YEARS if room[y] > 0 and y not in years] or [
                y for y in YEARS if room[y] > 0
            ]
            year = self.rng.choices(open_years, weights=[room[y] for y in open_years])[0]
            room[year] -= 1
            years.append(year)
        return sorted(years)

    def _pupil(self, surname: str, year: int) -> Pupil:
        rng = self.rng
        gender = rng.choice("MF")
        forename = rng.choice(BOYS if gender == "M" else GIRLS)
        preferred = forename
        if forename in NICKNAMES and rng.random() < 0.3:
            preferred = NICKNAMES[forename]
        # Year 7 in the school year starting September Y were born Sep Y-13 to Aug Y-12.
        first_day = date(self.academic_year - year - 5, 9, 1)
        born = first_day + timedelta(days=rng.randrange(365))
        return Pupil(
            upn=self._upn(born),
            forename=forename,
            surname=surname,
            preferred_forename=preferred,
            gender=gender,
            date_of_birth=born,
            year=year,
            ability=rng.gauss(0, 1),
        )

    def _upn(self, born: date) -> str:
        """Check letter, the allocating LA and school, the year allocated, a serial."""
        rng = self.rng
        while True:
            allocated = (born.year + 4) % 100  # allocated on entry to Reception
            digits = (
                f"{rng.choice(LA_CODES)}{rng.randint(2000, 2999)}"
                f"{allocated:02d}{rng.randrange(1000):03d}"
            )
            upn = upn_check_letter(digits) + digits
            if upn not in self.upns:
                self.upns.add(upn)
                return upn

    def _person(self, gender: str, *, surname: str, grand: bool = False, title: str = "") -> Person:
        rng = self.rng
        if grand:
            forename = rng.choice(FEMALE_GRAND if gender == "F" else MALE_GRAND)
        else:
            forename = rng.choice(FEMALE_ADULT if gender == "F" else MALE_ADULT)
        if not title:
            if rng.random() < 0.03:
                title = "Dr"
            elif gender == "M":
                title = "Mr"
            else:
                title = rng.choices(("Mrs", "Ms", "Miss"), weights=(6, 3, 1))[0]
        person = Person(title=title, forename=forename, surname=surname, gender=gender)
        person.phones.append(("M", self._mobile()))
        if rng.random() < 0.1:
            person.phones.append(("W", self._landline()))
        self.people.append(person)
        return person

    def _mobile(self) -> str:
        return f"{DRAMA_MOBILE}{self.rng.randrange(1000):03d}"

    def _landline(self) -> str:
        return f"{self.rng.choice(DRAMA_LANDLINES)}{self.rng.randrange(1000):03d}"

    def _other_surname(self, surname: str) -> str:
        other = self.rng.choice(SURNAMES)
        return other if other != surname else self.rng.choice(SURNAMES)

    def _cast(self, family: Family) -> None:
        """Who the family's contacts are, with their relationship, PR and order."""
        rng, surname, kind = self.rng, family.surname, family.kind
        cast = family.cast
        if kind == "together":
            mother_surname = surname if rng.random() < 0.9 else self._other_surname(surname)
            mother = self._person("F", surname=mother_surname)
            father = self._person("M", surname=surname)
            mother_first = family.flag == "demo" or rng.random() < 0.7
            cast.append(Link(mother, 1 if mother_first else 2, "PAM", True))
            cast.append(Link(father, 2 if mother_first else 1, "PAF", True))
            if family.flag != "demo" and rng.random() < 0.25:
                grand = self._person(rng.choice("FM"), surname=surname, grand=True)
                cast.append(Link(grand, 3, "FAM", False, lives_with_pupil=False))
        elif kind == "single":
            gender = "F" if rng.random() < 0.85 else "M"
            parent = self._person(gender, surname=surname)
            cast.append(Link(parent, 1, "PAM" if gender == "F" else "PAF", True))
            if rng.random() < 0.5:
                if rng.random() < 0.7:
                    other = self._person(rng.choice("FM"), surname=surname, grand=True)
                    cast.append(Link(other, 2, "FAM", False, lives_with_pupil=False))
                else:
                    other = self._person(rng.choice("FM"), surname=self._other_surname(surname))
                    cast.append(Link(other, 2, "REL", False, lives_with_pupil=False))
        elif kind == "separated":
            mother_surname = surname if rng.random() < 0.6 else self._other_surname(surname)
            mother = self._person("F", surname=mother_surname)
            father = self._person("M", surname=surname)
            with_mother = rng.random() < 0.75
            cast.append(Link(mother, 1 if with_mother else 2, "PAM", True, False, with_mother))
            cast.append(
                Link(
                    father,
                    2 if with_mother else 1,
                    "PAF",
                    True,
                    court_order=family.flag == "court_order"
                    or (with_mother and rng.random() < COURT_ORDER_RATE),
                    lives_with_pupil=not with_mother,
                )
            )
            if rng.random() < 0.4:
                partner_gender = "M" if with_mother else "F"
                partner_surname = self._other_surname(surname)
                partner = self._person(partner_gender, surname=partner_surname)
                relationship = "STF" if with_mother else "STM"
                cast.append(Link(partner, 3, relationship, False))
        elif kind == "step":
            stepfather = self._person("M", surname=self._other_surname(surname))
            mother_surname = stepfather.surname if rng.random() < 0.5 else surname
            mother = self._person("F", surname=mother_surname)
            cast.append(Link(mother, 1, "PAM", True))
            cast.append(Link(stepfather, 2, "STF", False))
            if rng.random() < 0.2:
                grand = self._person(rng.choice("FM"), surname=surname, grand=True)
                cast.append(Link(grand, 3, "FAM", False, lives_with_pupil=False))
        elif kind == "kinship":
            # A grandmother brings the child up and is called first; the mother keeps PR.
            grandmother = self._person("F", surname=surname, grand=True, title="Mrs")
            mother = self._person("F", surname=surname)
            cast.append(Link(grandmother, 1, "FAM", False))
            cast.append(Link(mother, 2, "PAM", True, lives_with_pupil=False))
        else:  # foster: the local authority holds PR, so no contact has it
            carer_surname = self._other_surname(surname)
            cast.append(Link(self._person("F", surname=carer_surname), 1, "CAR", False))
            if rng.random() < 0.5:
                cast.append(Link(self._person("M", surname=carer_surname), 2, "CAR", False))
        self._emails(family)
        landline = self._landline() if rng.random() < 0.4 else ""
        for link in cast:
            if landline and link.lives_with_pupil:
                link.person.phones.insert(1, ("H", landline))

    def _emails(self, family: Family) -> None:
        rng, flag = self.rng, family.flag
        people = [link.person for link in family.cast]
        for link in family.cast:
            person = link.person
            missing = PR_NO_EMAIL_RATE if link.responsibility else OTHER_NO_EMAIL_RATE
            if flag == "demo" or rng.random() >= missing:
                person.email = self._email(person)
        with_pr = [link.person for link in family.cast if link.responsibility]
        if flag == "sole_pr_no_email":
            for person in with_pr:
                person.email = ""
        elif family.kind == "kinship" and rng.random() < 0.5:
            with_pr[0].email = ""
        shared = flag == "shared_email" or (
            family.kind == "together" and not flag and rng.random() < SHARED_EMAIL_RATE
        )
        if shared:
            # One address for the household, used by both parents.
            address = self._unique_email(
                rng.choice(("the{l}s", "{l}family", "{l}.home")).format(l=_ascii(family.surname))
            )
            people[0].email = people[1].email = address
        if flag == "invalid_email_at":
            people[1].email = self._broken_email(people[1], "at")
        elif flag == "invalid_email_words":
            people[0].email = self._broken_email(people[0], "words")
        elif flag != "demo":
            for person in people:
                if person.email and rng.random() < INVALID_EMAIL_RATE:
                    person.email = self._broken_email(person, rng.choice(("at", "words")))

    def _email(self, person: Person) -> str:
        rng = self.rng
        first, last = _ascii(person.forename), _ascii(person.surname)
        if rng.random() < 0.1:  # some MIS records keep the capitals people typed
            first, last = first.capitalize(), last.capitalize()
        pattern = rng.choice(
            ("{f}.{l}", "{f}.{l}", "{f}{l}", "{f}.{l}{n}", "{i}{l}", "{l}.{f}", "{f}_{l}{n}")
        )
        local = pattern.format(f=first, l=last, i=first[:1], n=rng.randint(1, 99))
        return self._unique_email(local)

    def _unique_email(self, local: str) -> str:
        domain = self.rng.choice(PARENT_DOMAINS)
        candidate = f"{local}@{domain}"
        while candidate.casefold() in self.emails:
            candidate = f"{local}{self.rng.randint(1, 999)}@{domain}"
        self.emails.add(candidate.casefold())
        return candidate

    def _broken_email(self, person: Person, how: str) -> str:
        """The address as mistyped into the MIS: 'jo.smith@' or 'josmith at example.com'."""
        first, last = _ascii(person.forename), _ascii(person.surname)
        n = ""
        while True:
            text = f"{first}.{last}{n}@" if how == "at" else f"{first}{last}{n} at example.com"
            if text not in self.emails:
                self.emails.add(text)
                return text
            n = self.rng.randint(1, 999)

    def _link(self, family: Family) -> None:
        """Give each child the family's contacts; siblings sometimes differ in order."""
        rng = self.rng
        for index, child in enumerate(family.children):
            links = [
                Link(
                    person=link.person,
                    order=link.order,
                    relationship=link.relationship,
                    responsibility=link.responsibility,
                    court_order=link.court_order,
                    lives_with_pupil=link.lives_with_pupil,
                )
                for link in family.cast
            ]
            if index and family.flag != "demo":
                parents = [link for link in links if link.order in (1, 2)]
                if family.kind == "together" and len(parents) == 2 and rng.random() < 0.3:
                    parents[0].order, parents[1].order = parents[1].order, parents[0].order
                for link in links:
                    if link.person.email and rng.random() < 0.05:
                        link.shouted_email = True
            if rng.random() < 0.3:  # MIS exports do not list contacts in priority order
                rng.shuffle(links)
            child.links = links

    def _settle_identities(self) -> None:
        """Keep people apart as the CTF importer identifies them: names with the email,
        or names with the first phone when there is no email."""
        for person in self.people:
            while True:
                names = (person.forename.casefold(), person.surname.casefold())
                if person.email:
                    key = (*names, "email:" + person.email.casefold())
                else:
                    key = (*names, "phone:" + person.phones[0][1])
                if key not in self.identities:
                    self.identities.add(key)
                    break
                person.phones[0] = ("M", self._mobile())

    # -- staff and groups --------------------------------------------------------------

    def _timetable(self, pupils: list[Pupil]) -> tuple[list[Group], list[StaffMember]]:
        rng = self.rng
        forms: list[Group] = []
        classes: dict[str, list[Group]] = {}
        for year in YEARS:
            cohort = [p for p in pupils if p.year == year]
            if not cohort:
                continue
            count = max(1, round(len(cohort) / FORM_SIZE))
            shuffled = cohort[:]
            rng.shuffle(shuffled)
            for index in range(count):
                label = _form_label(index)
                form = Group(f"{year}{label}", "registration", f"{year}{label}", "", year)
                form.pupils = _by_name(shuffled[index::count])
                forms.append(form)
            # English, Maths and Science are taught in sets by attainment.
            for subject, code in CORE_SUBJECTS:
                ranked = sorted(cohort, key=lambda p: -(p.ability + rng.gauss(0, 0.5)))
                for index in range(count):
                    chunk = ranked[
                        index * len(ranked) // count : (index + 1) * len(ranked) // count
                    ]
                    group = Group(f"{year}x/{code}{index + 1}", "class", "", subject, year)
                    group.name, group.pupils = group.mis_id, _by_name(chunk)
                    classes.setdefault(subject, []).append(group)
            # Other subjects are taught by form; in years 10-11 most are GCSE options.
            form_subjects = KS3_FORM_SUBJECTS if year <= 9 else KS4_FORM_SUBJECTS
            for form in forms[-count:]:
                for subject, code in form_subjects:
                    group = Group(f"{form.name}/{code}", "class", "", subject, year)
                    group.name, group.pupils = group.mis_id, form.pupils[:]
                    classes.setdefault(subject, []).append(group)
            if year >= 10:
                self._options(year, cohort, classes)

        staff: list[StaffMember] = []
        all_classes = [group for groups in classes.values() for group in groups]
        teachers = self._staff_teachers(classes, forms, staff)
        self._tutors(forms, teachers, all_classes)
        self._leaders_and_support(len(pupils), staff)
        return forms + all_classes, staff

    def _options(self, year: int, cohort: list[Pupil], classes: dict) -> None:
        rng = self.rng
        takers: dict[str, list[Pupil]] = {subject: [] for subject, _c, _w in OPTIONS}
        for pupil in cohort:
            # Weighted choice of four without replacement (Efraimidis-Spirakis keys).
            keys = sorted(OPTIONS, key=lambda option: rng.random() ** (1 / option[2]))
            for subject, _code, _weight in keys[-OPTIONS_PER_PUPIL:]:
                takers[subject].append(pupil)
        for subject, code, _weight in OPTIONS:
            chosen = takers[subject]
            count = -(-len(chosen) // CLASS_SIZE)
            for index in range(count):
                group = Group(f"{year}y/{code}{index + 1}", "class", "", subject, year)
                group.name, group.pupils = group.mis_id, _by_name(chosen[index::count])
                classes.setdefault(subject, []).append(group)

    def _staff_member(self, role: str, staff: list[StaffMember], *, teacher: bool) -> StaffMember:
        rng = self.rng
        gender = rng.choice("MF")
        forename = rng.choice(FEMALE_ADULT if gender == "F" else MALE_ADULT)
        surname = rng.choice(SURNAMES)
        if teacher or rng.random() < 0.5:
            title = (
                "Dr"
                if rng.random() < 0.06
                else "Mr"
                if gender == "M"
                else rng.choice(("Mrs", "Ms"))
            )
        else:
            title = "Mr" if gender == "M" else rng.choice(("Mrs", "Ms", "Miss"))
        local = f"{_ascii(forename)[:1]}.{_ascii(surname)}"
        email, n = f"{local}@{STAFF_DOMAIN}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{STAFF_DOMAIN}"
        self.emails.add(email)
        member = StaffMember(f"STF{len(staff) + 1:05d}", title, forename, surname, email, role)
        staff.append(member)
        return member

    def _staff_teachers(
        self, classes: dict[str, list[Group]], forms: list[Group], staff: list[StaffMember]
    ) -> list[StaffMember]:
        """Enough teachers per subject for about ten groups each, classes shared out."""
        rng = self.rng
        total_classes = sum(len(groups) for groups in classes.values())
        wanted = max(len(classes), round((total_classes + len(forms)) / GROUPS_PER_TEACHER))
        quotas = {s: len(g) * wanted / total_classes for s, g in classes.items()}
        per_subject = {s: max(1, int(q)) for s, q in quotas.items()}
        while sum(per_subject.values()) < wanted:
            subject = max(quotas, key=lambda s: quotas[s] - per_subject[s])
            per_subject[subject] += 1
        teachers: list[StaffMember] = []
        for subject, groups in classes.items():
            team = [
                self._staff_member(
                    f"Head of {subject}" if index == 0 else f"Teacher of {subject}",
                    staff,
                    teacher=True,
                )
                for index in range(per_subject[subject])
            ]
            offset = rng.randrange(len(team))
            for index, group in enumerate(groups):
                group.teachers.append(team[(index + offset) % len(team)])
                if len(team) > 1 and rng.random() < 0.03:  # a shared class
                    group.teachers.append(team[(index + offset + 1) % len(team)])
            teachers.extend(team)
        return teachers

    def _tutors(self, forms: list[Group], teachers: list[StaffMember], classes: list) -> None:
        """Each form gets the teacher with the fewest groups so far as its tutor."""
        load = {teacher.mis_id: 0 for teacher in teachers}
        for group in classes:
            for teacher in group.teachers:
                load[teacher.mis_id] += 1
        heap = [(load[t.mis_id], index, t) for index, t in enumerate(teachers)]
        heapq.heapify(heap)
        for form in forms:
            groups, index, teacher = heapq.heappop(heap)
            form.teachers.append(teacher)
            heapq.heappush(heap, (groups + 1, index, teacher))

    def _leaders_and_support(self, pupils: int, staff: list[StaffMember]) -> None:
        for role in LEADERSHIP_ROLES:
            self._staff_member(role, staff, teacher=True)
        for year in YEARS:
            self._staff_member(f"Head of Year {year}", staff, teacher=True)
        target = round(STAFF_PER_1000_PUPILS * pupils / 1000)
        for index in range(max(2, target - len(staff))):
            self._staff_member(SUPPORT_ROLES[index % len(SUPPORT_ROLES)], staff, teacher=False)


def _form_label(index: int) -> str:
    letter = FORM_LETTERS[index % len(FORM_LETTERS)]
    return letter if index < len(FORM_LETTERS) else f"{letter}{index // len(FORM_LETTERS) + 1}"


def _by_name(pupils: list[Pupil]) -> list[Pupil]:
    return sorted(pupils, key=lambda p: (p.surname, p.forename, p.upn))


def _ascii(name: str) -> str:
    """A name as it goes into an email address: no accents, apostrophes or spaces."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


# -- writers -----------------------------------------------------------------------------


def write_ctf(school: School, path: Path) -> None:
    """Write the CTF as SIMS does (CTF 19, full), one pupil at a time."""
    year = school.academic_year
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<CTfile>\n<Header>\n'
            "<DocumentName>Common Transfer File</DocumentName>\n"
            "<CTFversion>19.0</CTFversion>\n"
            f"<DateTime>{year}-10-01T09:00:00</DateTime>\n"
            "<DocumentQualifier>full</DocumentQualifier>\n"
            "<SupplierID>SIMS</SupplierID>\n"
            "<SourceSchool>\n"
            f"<LEA>{SCHOOL_LA}</LEA>\n<Estab>{SCHOOL_ESTAB}</Estab>\n<URN>{SCHOOL_URN}</URN>\n"
            f"<SchoolName>{escape(school.name)}</SchoolName>\n"
            f"<AcademicYear>{year}</AcademicYear>\n"
            "</SourceSchool>\n"
            "<DestSchool>\n<LEA>XXX</LEA>\n<Estab>XXXX</Estab>\n</DestSchool>\n"
            "</Header>\n<CTFpupilData>\n"
        )
        chunk: list[str] = []
        for pupil in school.pupils:
            _pupil_xml(pupil, chunk)
            if len(chunk) > 20000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
        out.write("</CTFpupilData>\n</CTfile>\n")


def _pupil_xml(pupil: Pupil, out: list[str]) -> None:
    surname = escape(pupil.surname)
    out.append(
        f"<Pupil>\n<UPN>{pupil.upn}</UPN>\n<Surname>{surname}</Surname>\n"
        f"<Forename>{escape(pupil.forename)}</Forename>\n"
        f"<DOB>{pupil.date_of_birth.isoformat()}</DOB>\n<Gender>{pupil.gender}</Gender>\n"
        f"<BasicDetails>\n<PreferredSurname>{surname}</PreferredSurname>\n"
        f"<PreferredForename>{escape(pupil.preferred_forename)}</PreferredForename>\n"
        f"<NCyearActual>{pupil.year}</NCyearActual>\n<EnrolStatus>C</EnrolStatus>\n"
        "</BasicDetails>\n<Contacts>\n"
    )
    for link in pupil.links:
        person = link.person
        out.append(
            f"<Contact>\n<Order>{link.order}</Order>\n<Title>{escape(person.title)}</Title>\n"
            f"<Surname>{escape(person.surname)}</Surname>\n"
            f"<Forename>{escape(person.forename)}</Forename>\n<Gender>{person.gender}</Gender>\n"
            f"<Relationship>{link.relationship}</Relationship>\n"
            f"<Responsibility>{'true' if link.responsibility else 'false'}</Responsibility>\n"
        )
        if link.lives_with_pupil:
            out.append("<Address>\n<AddressAsPupil>true</AddressAsPupil>\n</Address>\n")
        out.append("<Phones>\n")
        for kind, number in person.phones:
            out.append(
                f"<Phone>\n<TelephoneType>{kind}</TelephoneType>\n"
                f"<PhoneNo>{number}</PhoneNo>\n</Phone>\n"
            )
        out.append("</Phones>\n")
        if person.email:
            email = person.email.upper() if link.shouted_email else person.email
            out.append(f"<Email>{escape(email)}</Email>\n")
        out.append(
            "<SuppInfo>\n<SuppID>SIMS</SuppID>\n"
            f"<CourtOrder>{'Y' if link.court_order else 'N'}</CourtOrder></SuppInfo>\n"
            "</Contact>\n"
        )
    out.append("</Contacts>\n</Pupil>\n")


def write_timetable(school: School, path: Path) -> None:
    """Write the timetable CSV: one row per group member, then staff with no group."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(TIMETABLE_COLUMNS)
        teaching: set[str] = set()
        for group in school.groups:
            head = [group.mis_id, group.kind, group.name, group.subject, group.year]
            for teacher in group.teachers:
                teaching.add(teacher.mis_id)
                writer.writerow(head + ["teacher", *_staff_columns(teacher)])
            writer.writerows(
                head + ["pupil", pupil.upn, "", "", "", "", ""] for pupil in group.pupils
            )
        for member in school.staff:
            if member.mis_id not in teaching:
                writer.writerow(["", "", "", "", "", "teacher", *_staff_columns(member)])


def _staff_columns(member: StaffMember) -> list[str]:
    return [
        member.mis_id,
        member.title,
        member.forename,
        member.surname,
        member.email,
        member.role,
    ]
