"""Mia Maths's evening, for the schedule and PDF tests: the signed-in teacher
(school.teacher_user) is Mia, in room M4, with three appointments, a tea break for
everyone and a break of her own; Eve English sees Amy too."""

from evenings_school import NOW, book, london, teacher

from schoolgate.evenings.setup import services as setup
from schoolgate.mis.models import Staff


def link_teacher(user, mis_id: str) -> None:
    """Give the MIS staff record the user's email: the user is that teacher now."""
    Staff.objects.filter(mis_id=mis_id).update(email=user.email, email_key=user.email)


def make_mia(school, evening):
    """Mia Maths (7 Maths: Amy, Cal, Dan) as the signed-in teacher, with a room,
    three appointments, a tea break for everyone and a break of her own."""
    link_teacher(school.teacher_user, "S-MIA")
    entry = teacher(evening, school, "S-MIA")
    entry.room = "M4"
    entry.save()
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), message="Fractions, please")
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 30))
    book(school, evening, school.deb, (school.dan, "S-MIA", 18, 0))
    # Not Mia's: Eve English sees Amy at 16:10.
    book(school, evening, school.ann, (school.amy, "S-EVE", 16, 10), message="Reading at home")
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 17, 50),
        label="Tea",
        now=NOW,
    )
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 16, 40),
        ends_at=london(2026, 3, 10, 16, 50),
        teachers=[entry],
        label="Phone call",
        now=NOW,
    )
    return entry
