"""The booking engine: the public services every other part of the evenings app uses.

Hold, confirm, book, release, cancel, move and transfer appointments (`services`);
the refusals they raise (`errors`); what parents may book and what is free
(`availability`). Import these names from here, not from the modules inside."""

from schoolgate.evenings.booking.cells import rebuild_cells, write_cells
from schoolgate.evenings.booking.errors import (
    AlreadyBooked,
    BookingClosed,
    BookingError,
    ChangeRefused,
    Clash,
    HoldExpired,
    InvalidChoice,
    InvalidSetup,
    LimitReached,
    NotAllowed,
    NotBookable,
    OutsideWindow,
    PastCutoff,
    SetupError,
    SlotTaken,
    SlotUnavailable,
)
from schoolgate.evenings.booking.locks import DEADLOCK_RETRIES
from schoolgate.evenings.booking.rules import Choice, check_bookable, default_method
from schoolgate.evenings.booking.services import (
    Booking,
    book_slots,
    cancel_appointment,
    cancel_confirmed,
    confirm_hold,
    hold_seconds,
    hold_slots,
    move_appointment,
    release_expired_holds,
    release_hold,
    transfer_appointment,
)

__all__ = [
    "BookingError",
    "NotAllowed",
    "BookingClosed",
    "OutsideWindow",
    "PastCutoff",
    "NotBookable",
    "InvalidChoice",
    "SlotUnavailable",
    "SlotTaken",
    "AlreadyBooked",
    "Clash",
    "LimitReached",
    "HoldExpired",
    "SetupError",
    "InvalidSetup",
    "ChangeRefused",
    "DEADLOCK_RETRIES",
    "Booking",
    "Choice",
    "book_slots",
    "cancel_appointment",
    "cancel_confirmed",
    "check_bookable",
    "confirm_hold",
    "default_method",
    "hold_seconds",
    "hold_slots",
    "move_appointment",
    "rebuild_cells",
    "release_expired_holds",
    "release_hold",
    "transfer_appointment",
    "write_cells",
]
