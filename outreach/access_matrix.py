"""Who may use which page and API endpoint: the role matrix.

One row per URL pattern of the product (the pattern's namespaced name, or
its route when it has none), stating for each role the status a request for
a record of team A gets. `tests/test_access_matrix.py` walks Django's URL
resolver and fails on any pattern without a row, then asks every pattern as
every role and expects exactly the status stated here.

Roles: `anonymous`; `worker_a` (a worker of team A, the record's team);
`worker_b` (a worker of team B in the same area); `expert_a` (an expert by
experience of team A); `coordinator` (team A's coordinator, with TOTP);
`admin` (an admin, no team, with TOTP); `superuser` (with TOTP).

`obj` names the record whose id fills the path (`pk`); `get` is the answer
to a GET, `post` (where stated) to a POST with an empty body — enough to
show who gets past the door; the forms' own tests cover what a valid POST does.
Each request is rolled back, so a write by one role leaves the record for the next.

Reading the rows: a worker of another team gets 404 for every client record
(persons, encounters, referrals, follow-ups, outings), never 403, so ids tell
nothing; where a page is refused by role (403) the record's own team's
worker gets the same 403. Sites, partners and networks are places and
organisations, not people: every signed-in user reads them, and only
coordinators and admins change them. An admin belongs to no team and so sees
no client record; a superuser sees all. Experts by experience see the
pseudonymous persons they met on their own outings and no referrals.
"""

ROLES = ("anonymous", "worker_a", "worker_b", "expert_a", "coordinator", "admin", "superuser")

# Third-party patterns, with the reason they are not in the matrix.
EXCLUDED = {
    "admin/": "Django admin: its ModelAdmins are scoped and tested in */tests/test_admin.py",
    "accounts/": "allauth's sign-in, password and MFA pages, open by design",
    "i18n/": "Django's language switch, no data",
    "api/schema/": "drf-spectacular's schema, no data",
    "api/docs/": "drf-spectacular's Swagger UI, sign-in required, no data",
}
EXCLUDED_PREFIXES = tuple(EXCLUDED)

# key: ((GET by each of ROLES), (write by each of ROLES))
#          anon  wrk_a wrk_b expert coord admin super
MATRIX: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # Start page and icons
    "home": ((302, 302, 302, 302, 200, 200, 200), (302, 302, 302, 302, 200, 200, 200)),
    "favicon.ico": ((301, 301, 301, 301, 301, 301, 301), (301, 301, 301, 301, 301, 301, 301)),
    "apple-touch-icon.png": ((301, 301, 301, 301, 301, 301, 301), (301, 301, 301, 301, 301, 301, 301)),
    "apple-touch-icon-precomposed.png": ((301, 301, 301, 301, 301, 301, 301), (301, 301, 301, 301, 301, 301, 301)),
    # The installable app: its service worker and manifest, open to all (no data in them)
    "service_worker": ((200, 200, 200, 200, 200, 200, 200), (405, 405, 405, 405, 405, 405, 405)),
    "web_manifest": ((200, 200, 200, 200, 200, 200, 200), (405, 405, 405, 405, 405, 405, 405)),
    # API (/api/v1/)
    "api-summary": ((401, 400, 400, 403, 400, 400, 400), (401, 405, 405, 403, 405, 405, 405)),
    "api-reach": ((401, 400, 400, 403, 400, 400, 400), (401, 405, 405, 403, 405, 405, 405)),
    "api-extract": ((401, 400, 400, 403, 400, 400, 400), (401, 405, 405, 403, 405, 405, 405)),
    # Team A coordinates the network: its worker sees the evaluation, team B's does not.
    "api-networks": ((401, 400, 403, 403, 400, 400, 400), (401, 405, 403, 403, 405, 405, 405)),
    "site-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "site-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "outing-list": ((401, 200, 200, 200, 200, 200, 200), (401, 400, 400, 403, 400, 400, 400)),
    "outing-detail": ((401, 200, 404, 200, 200, 404, 200), (401, 200, 404, 403, 200, 404, 200)),
    "outing-tally": ((401, 405, 405, 405, 405, 405, 405), (401, 400, 404, 400, 400, 404, 400)),
    "team-list": ((401, 200, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405, 405)),
    "team-detail": ((401, 200, 404, 200, 200, 404, 200), (401, 405, 405, 405, 405, 405, 405)),
    "municipality-list": ((401, 200, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405, 405)),
    "municipality-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405, 405)),
    "user-me": ((401, 200, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405, 405)),
    "person-list": ((401, 200, 200, 200, 200, 200, 200), (401, 400, 400, 403, 400, 400, 400)),
    "person-detail": ((401, 200, 404, 200, 200, 404, 200), (401, 200, 404, 403, 200, 404, 200)),
    "person-similar": ((401, 405, 405, 405, 405, 405, 405), (401, 200, 200, 200, 200, 200, 200)),
    # The world's person has no identity code: 404 wherever the person is visible and the role may reveal.
    "person-identity-code": ((401, 405, 405, 405, 405, 405, 405), (401, 404, 404, 403, 404, 404, 404)),
    "person-access-log": ((401, 403, 403, 403, 200, 403, 200), (401, 405, 405, 405, 405, 405, 405)),
    "referral-confirmation-link": ((401, 405, 405, 403, 405, 405, 405), (401, 201, 404, 403, 201, 404, 201)),
    "person-make-named": ((401, 405, 405, 405, 405, 405, 405), (401, 400, 404, 403, 400, 404, 400)),
    "encounter-list": ((401, 200, 200, 200, 200, 200, 200), (401, 400, 400, 400, 400, 400, 400)),
    "encounter-quick-log": ((401, 405, 405, 405, 405, 405, 405), (401, 400, 400, 400, 400, 400, 400)),
    "encounter-detail": ((401, 200, 404, 200, 200, 404, 200), (401, 403, 404, 403, 200, 404, 200)),
    "referral-list": ((401, 200, 200, 403, 200, 200, 200), (401, 400, 400, 403, 400, 400, 400)),
    "referral-detail": ((401, 200, 404, 403, 200, 404, 200), (401, 200, 404, 403, 200, 404, 200)),
    "follow-up-list": ((401, 200, 200, 200, 200, 200, 200), (401, 400, 400, 403, 400, 400, 400)),
    "follow-up-detail": ((401, 200, 404, 404, 200, 404, 200), (401, 200, 404, 403, 200, 404, 200)),
    "partner-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "partner-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "network-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "network-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "partner-service-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "partner-service-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    # Partner staff's names and details are personal data: not for experts by experience.
    "contact-person-list": ((401, 200, 200, 403, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "contact-person-detail": ((401, 200, 200, 403, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "membership-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "membership-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "agreement-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "agreement-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "meeting-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "meeting-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    "meeting-task-list": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 400, 400, 400)),
    "meeting-task-detail": ((401, 200, 200, 200, 200, 200, 200), (401, 403, 403, 403, 200, 200, 200)),
    # Workers and coordinators log communication; team B's worker may not change team A's activity.
    "communication-list": ((401, 200, 200, 403, 200, 200, 200), (401, 400, 400, 403, 400, 400, 400)),
    "communication-detail": ((401, 200, 200, 403, 200, 200, 200), (401, 200, 403, 403, 200, 200, 200)),
    "api-root": ((401, 200, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405, 405)),
    # Client feedback and surveys: links for those who work at the site or outing; results for coordinators.
    "api-feedback-links": ((401, 405, 405, 405, 405, 405, 405), (401, 400, 400, 400, 400, 400, 400)),
    "api-feedback-report": ((401, 403, 403, 403, 400, 403, 400), (401, 403, 403, 403, 405, 403, 405)),
    "api-feedback-comments": ((401, 403, 403, 403, 400, 403, 400), (401, 403, 403, 403, 405, 403, 405)),
    "api-surveys": ((401, 403, 403, 403, 405, 403, 405), (401, 403, 403, 403, 400, 403, 400)),
    # Account pages
    "api_tokens": ((302, 200, 200, 200, 200, 200, 200), (302, 302, 302, 302, 302, 302, 302)),
    "api_token_revoke": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 404, 404, 404, 404)),
    "email_change_confirm": ((404, 404, 404, 404, 404, 404, 404), (404, 404, 404, 404, 404, 404, 404)),
    # Field pages (/field/)
    "encounters:today": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "encounters:today_offline": ((302, 200, 200, 200, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "encounters:outing_start": ((302, 200, 200, 403, 200, 200, 200), (302, 200, 200, 403, 200, 200, 200)),
    "encounters:outing_detail": ((302, 200, 404, 200, 200, 404, 200), (302, 200, 404, 200, 200, 404, 200)),
    # The device's copy of the page: only of the user's own outing in progress today; the matrix's is done.
    "encounters:outing_offline": ((302, 404, 404, 404, 404, 404, 404), (302, 405, 405, 405, 405, 405, 405)),
    "encounters:outing_start_planned": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 403, 302, 404, 302)),
    "encounters:encounter_create": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 200, 200, 404, 200)),
    "encounters:person_search": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 404, 200, 404, 200)),
    "encounters:outing_tally": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 302, 302, 404, 302)),
    "encounters:outing_finish": ((302, 200, 404, 403, 200, 404, 200), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:encounter_edit": ((302, 403, 404, 403, 200, 404, 200), (302, 403, 404, 403, 200, 404, 200)),
    "encounters:encounter_delete": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 404, 403, 302, 404, 302)),
    # Nobody deleted the record: a restore is refused to everyone alike.
    "encounters:encounter_restore": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 403, 403, 403)),
    "encounters:referral_add": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:follow_up_done": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 404, 302, 404, 302)),
    "encounters:person_list": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "encounters:person_create": ((302, 200, 200, 403, 200, 200, 200), (302, 200, 200, 403, 200, 200, 200)),
    "encounters:person_engage": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 403, 302, 404, 302)),
    "encounters:person_identity_code_reveal": (
        (302, 405, 405, 405, 405, 405, 405),
        (302, 404, 404, 403, 404, 404, 404),
    ),
    "encounters:my_follow_ups": ((302, 200, 200, 403, 200, 200, 200), (302, 200, 200, 403, 200, 200, 200)),
    "encounters:follow_up_record": ((302, 405, 405, 405, 405, 405, 405), (302, 400, 404, 403, 400, 404, 400)),
    "encounters:follow_up_postpone": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 403, 302, 404, 302)),
    "encounters:person_detail": ((302, 200, 404, 200, 200, 404, 200), (302, 200, 404, 200, 200, 404, 200)),
    "encounters:person_contact_log": ((302, 200, 404, 403, 200, 404, 200), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:person_edit": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:person_follow_up_add": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:person_merge": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:person_unmerge": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 403, 302, 404, 302)),
    "encounters:person_make_named": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 403, 200, 404, 200)),
    "encounters:person_access_log": ((302, 403, 403, 403, 200, 403, 200), (302, 403, 403, 403, 200, 403, 200)),
    "encounters:person_data_export": ((302, 403, 403, 403, 200, 403, 200), (302, 403, 403, 403, 200, 403, 200)),
    "encounters:referral_detail": ((302, 200, 404, 404, 200, 404, 200), (302, 200, 404, 404, 200, 404, 200)),
    "encounters:referral_status": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 404, 404, 302, 404, 302)),
    "encounters:referral_follow_up_add": ((302, 405, 405, 405, 405, 405, 405), (302, 200, 404, 404, 200, 404, 200)),
    "encounters:referral_confirmation_link": (
        (302, 405, 405, 405, 405, 405, 405),
        (302, 200, 404, 404, 200, 404, 200),
    ),
    # The partner's one-time link: no account; the matrix's path holds no real token, so a 404 for everyone.
    "partner_confirmation": ((404, 404, 404, 404, 404, 404, 404), (404, 404, 404, 404, 404, 404, 404)),
    # Report pages (/reports/)
    "reports:dashboard": ((302, 200, 200, 403, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:site": ((302, 200, 200, 403, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:period": ((302, 200, 200, 403, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:period_evaluation": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 400, 403, 400)),
    "reports:observations": ((302, 200, 200, 403, 200, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:observation_create": ((302, 200, 200, 403, 200, 403, 200), (302, 200, 200, 403, 200, 403, 200)),
    "reports:observation_reported": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 302, 403, 302)),
    "reports:own_work": ((302, 200, 200, 403, 200, 200, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:feedback": ((302, 403, 403, 403, 200, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:feedback_comment_hide": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 302, 403, 302)),
    "reports:feedback_ask_outing": ((302, 200, 404, 200, 200, 404, 200), (302, 200, 404, 200, 200, 404, 200)),
    "reports:feedback_ask_site": ((302, 200, 403, 403, 200, 403, 200), (302, 200, 403, 403, 200, 403, 200)),
    "reports:surveys": ((302, 403, 403, 403, 200, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:survey_create": ((302, 403, 403, 403, 200, 403, 200), (302, 403, 403, 403, 200, 403, 200)),
    "reports:survey_detail": ((302, 403, 403, 403, 200, 403, 200), (302, 405, 405, 405, 405, 405, 405)),
    "reports:survey_close": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 302, 403, 302)),
    # The client's public pages (/f/): anyone with the link; an empty answer gets the form back.
    "feedback_form": ((200, 200, 200, 200, 200, 200, 200), (400, 400, 400, 400, 400, 400, 400)),
    "feedback_thanks": ((200, 200, 200, 200, 200, 200, 200), (405, 405, 405, 405, 405, 405, 405)),
    "survey_form": ((200, 200, 200, 200, 200, 200, 200), (400, 400, 400, 400, 400, 400, 400)),
    # Network work: the partner directory, networks, meetings, communication (networks/urls.py).
    # Everyone signed in reads the directory and the networks; coordinators and admins change them.
    "networks:directory": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "networks:partner_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:partner_detail": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "networks:partner_edit": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:service_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:contact_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:service_edit": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:contact_edit": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:network_list": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "networks:network_detail": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "networks:membership_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:agreement_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:meeting_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:membership_edit": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:agreement_edit": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "networks:meeting_detail": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "networks:task_done": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 302, 302, 302)),
    # Workers and coordinators log communication; experts by experience do not.
    "networks:communication": ((302, 200, 200, 403, 200, 200, 200), (302, 200, 200, 403, 200, 200, 200)),
    # Team A coordinates the network: its worker sees the evaluation, team B's does not.
    "networks:evaluation": ((302, 200, 403, 403, 200, 200, 200), (302, 200, 403, 403, 200, 200, 200)),
    # Planning pages: outings and sites
    "outreach:healthz": ((200, 200, 200, 200, 200, 200, 200), (200, 200, 200, 200, 200, 200, 200)),
    "outreach:outing_list": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "outreach:outing_create": ((302, 200, 200, 403, 200, 403, 200), (302, 200, 200, 403, 200, 403, 200)),
    "outreach:outings_generate": ((302, 405, 405, 405, 405, 405, 405), (302, 302, 302, 403, 302, 403, 302)),
    "outreach:outing_edit": ((302, 302, 404, 403, 302, 404, 302), (302, 302, 404, 403, 302, 404, 302)),
    "outreach:outing_cancel": ((302, 302, 404, 403, 302, 404, 302), (302, 302, 404, 403, 302, 404, 302)),
    "outreach:site_list": ((302, 200, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200, 200)),
    "outreach:site_create": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "outreach:site_edit": ((302, 403, 403, 403, 200, 200, 200), (302, 403, 403, 403, 200, 200, 200)),
    "outreach:site_deactivate": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 302, 302, 302)),
    "outreach:site_reactivate": ((302, 405, 405, 405, 405, 405, 405), (302, 403, 403, 403, 302, 302, 302)),
}
