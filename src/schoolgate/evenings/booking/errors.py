"""What the booking engine and the evening set-up refuse, and why.

Every refusal is a `BookingError` (or a `SetupError`) with a `code` a page can switch
on, a message in the user's terms, and the details a page needs to say more. Callers
never see a bare IntegrityError: the services translate them into these."""


class BookingError(Exception):
    """A booking, hold, change or cancellation was refused; nothing was changed."""

    code = "refused"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __getattr__(self, name):
        # error.slots, error.limit, ... read the details.
        try:
            return self.__dict__["details"][name]
        except KeyError:
            raise AttributeError(name) from None


class NotAllowed(BookingError):
    """The person may not do this: the pupil is not theirs, or they lack a permission."""

    code = "not_allowed"


class BookingClosed(BookingError):
    """The evening is not published (a draft, or closed)."""

    code = "closed"


class OutsideWindow(BookingError):
    """Booking has not opened yet, or has closed (details: opens, closes)."""

    code = "outside_window"


class PastCutoff(BookingError):
    """The slot starts too soon to book, change or cancel (details: starts_at, cutoff)."""

    code = "past_cutoff"


class NotBookable(BookingError):
    """The pupil is not in this evening's audience, or that teacher is not theirs here."""

    code = "not_bookable"


class InvalidChoice(BookingError):
    """The request itself does not make sense (a slot of another teacher, duplicates)."""

    code = "invalid_choice"


class SlotUnavailable(BookingError):
    """The time is in a break, or the appointment would run past the end of the day."""

    code = "slot_unavailable"


class SlotTaken(BookingError):
    """Rule 1: someone else holds or has booked that teacher's time (details: slots)."""

    code = "slot_taken"


class AlreadyBooked(BookingError):
    """Rule 2: the pupil already has a meeting with that teacher at this evening."""

    code = "already_booked"


class Clash(BookingError):
    """Rule 3: the parent would be in two places at once, or without the travel gap
    (details: clashes, the parent's appointments in the way)."""

    code = "clash"


class LimitReached(BookingError):
    """Rule 4: a limit would be passed (details: limit, allowed, booked, pupil)."""

    code = "limit_reached"


class HoldExpired(BookingError):
    """The hold ran out (or was replaced) before it was confirmed."""

    code = "hold_expired"


class SetupError(Exception):
    """An evening's set-up change was refused; nothing was changed."""

    code = "setup"

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidSetup(SetupError):
    """The values do not make sense (an end before a start, a length not a multiple)."""

    code = "invalid"


class ChangeRefused(SetupError):
    """The change would break bookings; `appointments` lists every one affected."""

    code = "would_break_bookings"

    def __init__(self, message: str, *, appointments, field: str = ""):
        super().__init__(message, field=field)
        self.appointments = list(appointments)
