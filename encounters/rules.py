"""The referral's rules that are not a single field's: how its status may move."""

from outreach.vocabulary import ReferralStatus

# Referral status moves only forward (DESIGN.md); saving the same status is
# no change. Final statuses have no successors.
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.SUGGESTED: frozenset(
        {ReferralStatus.MADE, ReferralStatus.DECLINED, ReferralStatus.NOT_REACHED, ReferralStatus.ENDED}
    ),
    ReferralStatus.MADE: frozenset(
        {ReferralStatus.CONNECTED, ReferralStatus.DECLINED, ReferralStatus.NOT_REACHED, ReferralStatus.ENDED}
    ),
    ReferralStatus.CONNECTED: frozenset({ReferralStatus.ENDED}),
    ReferralStatus.DECLINED: frozenset(),
    ReferralStatus.NOT_REACHED: frozenset(),
    ReferralStatus.ENDED: frozenset(),
}


def referral_status_change_allowed(current: str, new: str) -> bool:
    return new == current or new in REFERRAL_TRANSITIONS.get(current, frozenset())
