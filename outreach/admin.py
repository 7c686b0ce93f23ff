"""The Django admin, with access decided by role.

Who reaches the admin
    Active superusers and users whose role is *admin* or *coordinator*
    (`admin.site.has_permission` is replaced below). Outreach workers and
    experts by experience never do: the admin sends them to its login view,
    which here answers 403 to a signed-in user without access and never shows
    Django's own password form (signing in goes through allauth, whose rate
    limits and MFA then cover the admin too; see config/urls.py). `is_staff`
    is derived from the role by the user services and is not consulted.

What each role may do
    Every ModelAdmin derives from `RoleAdmin`, which answers Django's
    `has_*_permission` questions from the user's role rather than from
    Django's per-user permission table. Roles are this product's access
    model (DESIGN.md): a coordinator may manage sites, partners and networks
    because they are a coordinator, and granting or revoking that one model
    at a time in a second table would let the two drift apart without anyone
    noticing. So `auth.Group` is unregistered and the permission table stays
    empty.

    - Role admin: users, teams, areas, municipalities, sites, outings,
      partners, networks and the rest of the non-client records; audit
      entries read-only.
    - Coordinator: sites, outings (of the teams they see), partners, contact
      persons, networks, network meetings, communication activities,
      structural observations and client feedback.
    - Client records (persons, encounters, referrals, follow-ups, consents,
      merges; see encounters/admin.py) are shown to coordinators and admins
      only through the selectors, so each sees the teams they would see in
      the app; a superuser sees all.
    - Audit entries and tally events: nobody adds, changes or deletes them.
      API tokens: admins see and revoke them; their owners make them.
    - A superuser may do everything else.

Writes
    Records that have services (users, sites, outings, persons, encounters,
    referrals, follow-ups, partners, networks; API tokens are revoked by
    theirs) are saved by `ServiceAdmin` through them, so the audit entry and
    the domain checks are the same as in the app. The service runs once
    while the form validates, inside a savepoint that is always rolled back
    (taking any `on_commit` e-mail with it), so that a `ValidationError` it
    raises is shown on the form; `save_model` then calls it for real. Records
    without a service are saved by the admin and get an audit entry from
    `RoleAdmin`. Client records leave no copy of their name in Django's own
    admin log; the audit entry is their history.

Pickers
    Choices of every foreign key and many-to-many field are scoped by the
    selectors (`scoped_choices`), so that a posted id outside the user's
    reach is refused as an invalid choice. Sites, outings, persons and
    partners use autocomplete; municipalities, teams and networks are short
    lists and use a plain select, which also keeps them working for
    coordinators, who may not open the municipality and team admins.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import permissions, services
from .fields import CodeSetField
from .models import (
    AccessChange,
    AccessLogEntry,
    ApiToken,
    Area,
    AuditEntry,
    Disclosure,
    EmailChange,
    FieldSite,
    Municipality,
    Outing,
    OutingDayCount,
    OutingEncounterCount,
    OutingWorkerDayCount,
    TallyEvent,
    Team,
    User,
)
from .resources import OutingResource, RecordImportExportMixin, SiteResource
from .selectors import outings_visible_to, sites_visible_to, teams_visible_to, users_visible_to, writable_team_ids
from .types import authed_user
from .vocabulary import Role

ADMIN_ONLY: frozenset[str] = frozenset({Role.ADMIN})
COORDINATION: frozenset[str] = frozenset({Role.ADMIN, Role.COORDINATOR})
NOBODY: frozenset[str] = frozenset()

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# The admin site -------------------------------------------------------------


def can_use_admin(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role in services.STAFF_ROLES))


def _site_has_permission(request: HttpRequest) -> bool:
    return can_use_admin(request.user)


def _site_login(request: HttpRequest, extra_context=None):
    """Stand-in for the admin's password form; config/urls.py wraps it in login_required.

    A signed-in user with admin access goes on to where they were heading; one
    without gets 403 rather than a second sign-in form that would skip MFA.
    """
    if not _site_has_permission(request):
        raise PermissionDenied
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("admin:index")


# The default site's methods are replaced on purpose (no custom AdminSite); mypy forbids assigning to methods.
admin.site.has_permission = _site_has_permission  # type: ignore[method-assign]
admin.site.login = _site_login  # type: ignore[method-assign]
admin.site.site_header = _("Outreach administration")
admin.site.site_title = _("Outreach administration")
admin.site.index_title = _("Administration")
# Roles are the access model; groups would be a second, unused one.
admin.site.unregister(Group)


# Base classes ---------------------------------------------------------------


class _DryRun(Exception):
    """Raised to roll back the savepoint of a service's trial run."""


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where the form has the field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class RoleAdmin(admin.ModelAdmin):
    """A ModelAdmin whose permissions follow the user's role (see the module docstring).

    `view_roles` may see the records, `change_roles` (default: `view_roles`)
    may add and change them, `delete_roles` may delete them. `read_only`
    closes every write, also to superusers. Narrow what each role sees by
    overriding `get_queryset` with a selector.
    """

    view_roles: frozenset[str] = ADMIN_ONLY
    change_roles: frozenset[str] | None = None
    delete_roles: frozenset[str] = NOBODY
    read_only = False
    # Client records keep no copy of their __str__ (a person's name) in
    # Django's admin log; the audit entry is their history.
    admin_log = True

    view_on_site = False
    formfield_overrides: ClassVar[Mapping[type[models.Field], Mapping[str, Any]]] = {
        # The admin would otherwise render a set of codes as a number.
        CodeSetField: {"widget": forms.CheckboxSelectMultiple},
        # Addresses typed without a scheme are https (Django 6's default).
        models.URLField: {"widget": admin_widgets.AdminURLFieldWidget, "assume_scheme": "https"},
    }

    # Permissions ---------------------------------------------------------

    def _role_in(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        user = request.user
        if not can_use_admin(user):
            return False
        return user.is_superuser or user.role in roles

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._role_in(request, self.view_roles) or self.has_change_permission(request, obj)

    def has_add_permission(self, request):
        return not self.read_only and self._role_in(request, self._change_roles())

    def has_change_permission(self, request, obj=None):
        return not self.read_only and self._role_in(request, self._change_roles())

    def has_delete_permission(self, request, obj=None):
        return not self.read_only and self._role_in(request, self.delete_roles)

    def _change_roles(self) -> frozenset[str]:
        return self.view_roles if self.change_roles is None else self.change_roles

    # Choices -------------------------------------------------------------

    def team_choices(self, request: HttpRequest) -> QuerySet[Team]:
        """Teams offered in pickers: all for admins, the visible ones for coordinators."""
        user = authed_user(request)  # pickers are drawn only for users the admin let in
        if permissions.manages_every_site(user):
            return Team.objects.all()
        return teams_visible_to(user)

    def scoped_choices(self, request: HttpRequest, model) -> QuerySet | None:
        """The records of `model` this user may pick, or None for all of them."""
        if model is Team:
            return self.team_choices(request)
        user = authed_user(request)  # pickers are drawn only for users the admin let in
        if model is User:
            return users_visible_to(user)
        if model is Outing:
            return outings_visible_to(user)
        if model is FieldSite:
            return sites_visible_to(user)
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = self.scoped_choices(request, db_field.related_model)
        if queryset is not None and "queryset" not in kwargs:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = self.scoped_choices(request, db_field.related_model)
        if queryset is not None and "queryset" not in kwargs:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # Writes without a service: saved here, with an audit entry -------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changes = list(form.changed_data)
        if change and not changes and not any(formset.has_changed() for formset in formsets):
            return
        action = AuditEntry.Action.UPDATE if change else AuditEntry.Action.CREATE
        services.audit(actor=request.user, action=action, instance=form.instance, changes=changes)

    def delete_model(self, request, obj):
        services.audit(actor=request.user, action=AuditEntry.Action.DELETE, instance=obj)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # One at a time, so that each deletion has its audit entry (and its
        # service's checks); all or none.
        for obj in queryset:
            self.delete_model(request, obj)

    # Django's admin log ------------------------------------------------------

    def log_addition(self, request, obj, message):
        if self.admin_log:
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request, obj, message):
        if self.admin_log:
            return super().log_change(request, obj, message)
        return None

    def log_deletions(self, request, queryset):
        if self.admin_log:
            return super().log_deletions(request, queryset)
        return None


class ServiceAdmin(RoleAdmin):
    """A RoleAdmin that saves through a service function.

    Subclasses implement `service_save(request, data, original)`: `data` is
    the form's cleaned data, `original` the record as stored (None when
    adding); it calls the service and returns the saved record. The service
    saves many-to-many fields itself, so `save_related` saves inlines only.
    """

    def service_save(self, request: HttpRequest, data: dict, original: models.Model | None) -> models.Model:
        raise NotImplementedError

    def _original(self, request: HttpRequest, form: forms.ModelForm) -> models.Model | None:
        if form.instance._state.adding:
            return None
        # A fresh copy: the form has already written its values onto
        # form.instance, and the service must see what changed. Read through
        # get_queryset, which the selectors scope.
        return self.get_queryset(request).get(pk=form.instance.pk)

    def _check_with_service(self, request: HttpRequest, form: forms.ModelForm) -> None:
        try:
            with transaction.atomic():
                self.service_save(request, dict(form.cleaned_data), self._original(request, form))
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _("You may not save this record."))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceCheckedForm(form_class):  # type: ignore[misc, valid-type]  # a base made at run time by the admin
            def _post_clean(self):
                super()._post_clean()
                if not self._errors:
                    model_admin._check_with_service(request, self)

        ServiceCheckedForm.__name__ = form_class.__name__
        return ServiceCheckedForm

    def save_model(self, request, obj, form, change):
        saved = self.service_save(request, dict(form.cleaned_data), self._original(request, form) if change else None)
        # The admin goes on with `obj` (messages, redirects, its log), so
        # make it the saved record.
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class PostSearchChangeList(ChangeList):
    """A change list (or an export of one) searched by the text kept in the session, never by `?q=`.

    Its address and links carry only `_s=1` (a search is on); the text is
    put into the request's parameters while the list is built, then taken out.
    """

    def __init__(self, request, model, *args, **kwargs):
        original = request.GET
        params = original.copy()
        if params.pop(PostSearchMixin.SEARCH_MARK, None):
            query = request.session.get(PostSearchMixin.SESSION_KEY, {}).get(model._meta.label_lower)
            if query:
                params[SEARCH_VAR] = query
        request.GET = params
        try:
            super().__init__(request, model, *args, **kwargs)
        finally:
            request.GET = original
        self.csrf_token = get_token(request)
        if self.params.pop(SEARCH_VAR, None):
            self.params[PostSearchMixin.SEARCH_MARK] = "1"

    def get_query_string(self, new_params=None, remove=None):
        # Every link of the list (filters, sorting, pages, facets, export) says `_s=1`, not the text.
        params = dict(self.filter_params)
        if params.pop(SEARCH_VAR, None):
            params[PostSearchMixin.SEARCH_MARK] = ["1"]
        saved, self.filter_params = self.filter_params, params
        try:
            return super().get_query_string(new_params, remove)
        finally:
            self.filter_params = saved


if TYPE_CHECKING:
    # The mixins below are only ever combined with RoleAdmin; this lets mypy see its methods.
    _RoleAdminMixinBase = RoleAdmin
else:
    _RoleAdminMixinBase = object


class PostSearchMixin(_RoleAdminMixinBase):
    """Admin searches sent by POST, so that names and identity codes stay out of URLs, logs and `next=`.

    The search box posts the text; it is kept in the session (per model) and
    the change list is shown at an address that says only `_s=1`. A search
    text in the query string (`?q=…`) is refused: the change list is shown
    again without it.
    """

    SEARCH_MARK = "_s"
    SESSION_KEY = "admin_searches"

    def get_changelist(self, request, **kwargs):
        return PostSearchChangeList

    def changelist_view(self, request, extra_context=None):
        key = self.model._meta.label_lower  # type: ignore[attr-defined]
        searches = dict(request.session.get(self.SESSION_KEY, {}))
        params = request.GET.copy()
        if request.method == "POST" and "_search" in request.POST:
            query = request.POST.get(SEARCH_VAR, "").strip()[:200]
            params.pop(SEARCH_VAR, None)
            params.pop(PAGE_VAR, None)
            if query:
                searches[key] = query
                params[self.SEARCH_MARK] = "1"
            else:
                searches.pop(key, None)
                params.pop(self.SEARCH_MARK, None)
            request.session[self.SESSION_KEY] = searches
            return redirect(f"{request.path}?{params.urlencode()}" if params else request.path)
        if SEARCH_VAR in params:
            params.pop(SEARCH_VAR)
            messages.warning(request, _("Search with the search box: searches are not sent in addresses."))
            return redirect(f"{request.path}?{params.urlencode()}" if params else request.path)
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


class ScopedHistoryAdmin(SimpleHistoryAdmin):
    """The change history (django-simple-history) of records this user sees, read-only.

    simple-history shows the history of a record the change list does not
    offer (it falls back to the historical rows); here such a record is a
    404, as everywhere else. Reverting is off (SIMPLE_HISTORY_REVERT_DISABLED):
    a POST to a historical version is refused. `history_read(request, obj)`
    lets client-record admins log the reading.
    """

    def _scoped_object(self, request, object_id):
        try:
            return self.get_queryset(request).get(pk=unquote(object_id))
        except (self.model.DoesNotExist, ValueError, ValidationError):
            raise Http404 from None

    def history_read(self, request, obj) -> None:
        pass

    def history_view(self, request, object_id, extra_context=None):
        obj = self._scoped_object(request, object_id)
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self.history_read(request, obj)
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._scoped_object(request, object_id)
        if request.method != "GET":
            raise PermissionDenied
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if response.status_code == 200:
            self.history_read(request, obj)
        return response


class TeamListFilter(admin.SimpleListFilter):
    """Filter by team, offering only the teams the user may pick.

    Unlike RelatedOnlyFieldListFilter it does not scan the listed table for
    its distinct teams, which matters for millions of encounters.
    """

    title = _("team")
    parameter_name = "team"

    def lookups(self, request, model_admin):
        return [(str(team.pk), team.name) for team in model_admin.team_choices(request)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(team_id=int(value))
        return queryset


def code_set_filter(field_name: str, title, choices_enum) -> type[admin.SimpleListFilter]:
    """A list filter for a CodeSetField: records whose set holds the chosen code."""

    class CodeSetListFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            return choices_enum.choices

        def queryset(self, request, queryset):
            if self.value() in choices_enum.values:
                return queryset.filter(**{f"{field_name}__has": self.value()})
            return queryset

    CodeSetListFilter.title = title
    return CodeSetListFilter


def code_labels(codes, choices_enum) -> str:
    """A CodeSetField's value as its translated labels, for list columns."""
    return ", ".join(str(choices_enum(code).label) for code in codes or [])


class WritableTeamsMixin(_RoleAdminMixinBase):
    """Team-scoped work (outings, client records) is recorded only for teams the user may write for."""

    def team_choices(self, request: HttpRequest) -> QuerySet[Team]:
        return Team.objects.filter(pk__in=writable_team_ids(authed_user(request)))


# Outreach models ---------------------------------------------------------------


@admin.register(Municipality)
class MunicipalityAdmin(RoleAdmin):
    list_display = ("name_fi", "name_sv", "code", "outreach_active")
    list_filter = ("outreach_active",)
    search_fields = ("name_fi", "name_sv", "=code")
    ordering = ("name_fi",)


@admin.register(Area)
class AreaAdmin(RoleAdmin):
    list_display = ("name", "team_count")
    search_fields = ("name",)
    delete_roles = ADMIN_ONLY

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(team_count=Count("teams"))

    @admin.display(description=_("teams"), ordering="team_count")
    def team_count(self, obj):
        return obj.team_count


@admin.register(Team)
class TeamAdmin(RoleAdmin):
    list_display = ("name", "area", "municipality_names", "active")
    list_filter = ("active", "area", "municipalities")
    list_select_related = ("area",)
    search_fields = ("name",)
    filter_horizontal = ("municipalities",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("municipalities")

    @admin.display(description=_("municipalities"))
    def municipality_names(self, obj):
        return ", ".join(m.name for m in obj.municipalities.all())


@admin.register(User)
class UserAdmin(ServiceAdmin):
    """Users are created without a password: user_create e-mails them a link to set one."""

    list_display = ("email", "full_name", "role", "team_names", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_superuser", "teams")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    filter_horizontal = ("teams",)
    actions = ("send_invitation", "deactivate")

    def get_queryset(self, request):
        return users_visible_to(request.user).prefetch_related("teams")

    def get_fields(self, request, obj=None):
        fields = ["email", "full_name", "role", "teams"]
        if obj is not None:
            fields += ["phone", "is_active"]
        if request.user.is_superuser:
            fields.append("is_superuser")
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = ["last_login", "date_joined", "is_staff"]
        if obj.pk == request.user.pk:
            # user_update refuses these too; read-only says so up front.
            readonly += ["role", "teams", "is_superuser"]
        return readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets: list[tuple[StrOrPromise | None, dict[str, Any]]] = [
            (None, {"fields": self.get_fields(request, obj)})
        ]
        if obj is not None:
            fieldsets.append((_("Sign-in"), {"fields": ["is_staff", "last_login", "date_joined"]}))
        return fieldsets

    def has_change_permission(self, request, obj=None):
        # Only a superuser changes a superuser: otherwise an admin could take
        # over the account by changing its e-mail address.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("teams"))
    def team_names(self, obj):
        return ", ".join(team.name for team in obj.teams.all())

    def service_save(self, request, data, original):
        # Left out of the form (read-only on one's own account): unchanged.
        teams = list(data.pop("teams")) if "teams" in data else None
        if original is None:
            return services.user_create(
                actor=request.user,
                email=data["email"],
                full_name=data.get("full_name", ""),
                role=data["role"],
                teams=teams or [],
                is_superuser=data.get("is_superuser", False),
            )
        return services.user_update(actor=request.user, user=original, teams=teams, **data)

    def save_model(self, request, obj, form, change):
        new_email = form.cleaned_data.get("email", "")
        super().save_model(request, obj, form, change)
        if change and new_email and new_email.lower() != obj.email:
            self.message_user(
                request,
                _("The new e-mail address takes effect once confirmed from the link sent to the old address."),
                messages.WARNING,
            )

    # Users who have written anything are deactivated, never deleted: the
    # audit trail keeps who acted (its foreign keys PROTECT the user).

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, object_id)
        if user is not None and services.user_has_written(user):
            self.message_user(request, services.USER_DELETE_REFUSED, messages.ERROR)
            return redirect("admin:outreach_user_change", user.pk)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.user_delete(actor=request.user, user=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.user_delete(actor=request.user, user=user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's bulk delete would list the protected audit entries; the
        # deactivate action is the way to remove users.
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Deactivate the selected users"))
    def deactivate(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True).exclude(pk=request.user.pk):
            services.user_update(actor=request.user, user=user, is_active=False)
            count += 1
        self.message_user(
            request,
            _("Users deactivated: %(count)d. Their sessions and API keys were ended.") % {"count": count},
            messages.SUCCESS,
        )

    def response_add(self, request, obj, post_url_continue=None):
        # user_create e-mailed the new user a link to set a password; say so.
        self.message_user(
            request,
            _("An invitation to set a password was e-mailed to %(email)s.") % {"email": obj.email},
            messages.SUCCESS,
        )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Send invitation again"))
    def send_invitation(self, request, queryset):
        sent = 0
        for user in queryset.filter(is_active=True):
            services.user_send_invitation(actor=request.user, user=user)
            sent += 1
        self.message_user(
            request,
            _("Invitations sent: %(count)d. Inactive users get none.") % {"count": sent},
            messages.SUCCESS,
        )


@admin.register(FieldSite)
class FieldSiteAdmin(RecordImportExportMixin, ServiceAdmin):
    resource_classes = (SiteResource,)
    view_roles = COORDINATION
    list_display = ("name", "site_type", "municipality", "team", "active", "season", "schedule_weekday")
    list_filter = ("site_type", "active", "municipality", TeamListFilter)
    list_select_related = ("municipality", "team")
    search_fields = ("name", "address")
    fieldsets = (
        (None, {"fields": ["name", "site_type", "municipality", "team", "address", "active"]}),
        (_("Location"), {"fields": ["latitude", "longitude"]}),
        (_("Season"), {"fields": ["season_start_month", "season_end_month"]}),
        (
            _("Recurring schedule"),
            {"fields": ["schedule_weekday", "schedule_start_time", "schedule_end_time", "schedule_every_weeks"]},
        ),
    )

    def get_queryset(self, request):
        return sites_visible_to(request.user)

    def has_change_permission(self, request, obj=None):
        # Another area's site is shown read-only: site_update would refuse the change.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or permissions.can_manage_site(authed_user(request), obj))

    @admin.display(description=_("season"))
    def season(self, obj):
        if obj.season_start_month is None:
            return "–"
        return f"{obj.season_start_month}–{obj.season_end_month}"

    def service_save(self, request, data, original):
        if original is None:
            return services.site_create(actor=request.user, **data)
        return services.site_update(actor=request.user, site=original, **data)


@admin.register(Outing)
class OutingAdmin(RecordImportExportMixin, WritableTeamsMixin, ScopedHistoryAdmin, ServiceAdmin):
    resource_classes = (OutingResource,)
    view_roles = COORDINATION
    date_hierarchy = "date"
    list_display = ("date", "start_time", "end_time", "site", "team", "status", "tallied_contacts")
    list_filter = (
        "status",
        "site__site_type",
        "site__municipality",
        TeamListFilter,
    )
    list_select_related = ("site", "team")
    search_fields = ("site__name", "notes")
    autocomplete_fields = ("site",)
    filter_horizontal = ("participants",)
    fields = (
        "team",
        "site",
        "date",
        "start_time",
        "end_time",
        "status",
        "participants",
        "tallied_contacts",
        "observations",
        "notes",
        "created_by",
    )
    readonly_fields = ("created_by",)

    def get_queryset(self, request):
        return outings_visible_to(request.user)

    def service_save(self, request, data, original):
        participants = list(data.pop("participants", []))
        if original is None:
            return services.outing_create(actor=request.user, participants=participants, **data)
        return services.outing_update(actor=request.user, outing=original, participants=participants, **data)


@admin.register(AuditEntry)
class AuditEntryAdmin(RoleAdmin):
    read_only = True
    date_hierarchy = "at"
    list_display = ("at", "actor", "action", "model", "object_id", "changed_fields")
    list_filter = ("action", "model")
    list_select_related = ("actor",)
    # Exact matches: an id or an address, not a fishing expedition.
    search_fields = ("=object_id", "=actor__email")
    show_full_result_count = False

    @admin.display(description=_("changed fields"))
    def changed_fields(self, obj):
        return ", ".join(obj.changes or [])


@admin.register(TallyEvent)
class TallyEventAdmin(RoleAdmin):
    """Taps on an outing's tally sent by field devices: kept to make resends harmless, shown for support."""

    read_only = True
    date_hierarchy = "at"
    list_display = ("at", "outing", "delta", "tallied_after", "actor")
    list_select_related = ("outing", "outing__site", "actor")
    search_fields = ("=client_uuid",)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(outing__in=outings_visible_to(request.user))


@admin.register(ApiToken)
class ApiTokenAdmin(RoleAdmin):
    """Admins see whose scripts hold keys and revoke them; keys are made by their owners."""

    change_roles = NOBODY
    delete_roles = ADMIN_ONLY
    list_display = ("prefix", "name", "user", "created_at", "last_used_at")
    list_filter = ("user__role",)
    list_select_related = ("user",)
    search_fields = ("=user__email", "name")
    fields = ("user", "name", "prefix", "created_at", "last_used_at")

    def delete_model(self, request, obj):
        services.api_token_revoke(actor=request.user, token=obj)


@admin.register(EmailChange)
class EmailChangeAdmin(RoleAdmin):
    """Pending and confirmed changes of users' e-mail addresses (made through user_update)."""

    read_only = True
    list_display = ("user", "requested_at", "requested_by", "confirmed_at")
    list_select_related = ("user", "requested_by")
    fields = ("user", "requested_by", "requested_at", "confirmed_at")


@admin.register(AccessChange)
class AccessChangeAdmin(RoleAdmin):
    """Role and team changes; coordinators see those of their teams on their home page."""

    read_only = True
    date_hierarchy = "at"
    list_display = ("at", "user", "old_role", "new_role", "actor")
    list_select_related = ("user", "actor")


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(RoleAdmin):
    """Who used which person's data: read-only, and append-only in the database too.

    Admins look rows up by person id here; a coordinator reads one person's
    log from the person page (encounters.views.person_access_log_view).
    """

    read_only = True
    date_hierarchy = "at"
    list_display = ("at", "actor", "action", "door", "person_id")
    list_filter = ("action", "door")
    list_select_related = ("actor",)
    search_fields = ("=person_id", "=actor__email")
    show_full_result_count = False


@admin.register(Disclosure)
class DisclosureAdmin(RoleAdmin):
    """Client data sent out (referrals to partners, exports): read-only, append-only."""

    read_only = True
    date_hierarchy = "at"
    list_display = ("at", "actor", "kind", "recipient", "legal_basis", "record_type", "record_count")
    list_filter = ("kind", "legal_basis")
    list_select_related = ("actor",)
    show_full_result_count = False


# Report rollups: derived rows, kept by the services; shown read-only for support.


@admin.register(OutingDayCount)
class OutingDayCountAdmin(RoleAdmin):
    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "team_id", "site_id", "outings_done", "participant_seconds", "tallied_contacts")
    show_full_result_count = False


@admin.register(OutingWorkerDayCount)
class OutingWorkerDayCountAdmin(RoleAdmin):
    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "team_id", "site_id", "user_id", "outings_done", "seconds")
    show_full_result_count = False


@admin.register(OutingEncounterCount)
class OutingEncounterCountAdmin(RoleAdmin):
    read_only = True
    list_display = ("outing_id", "encounters", "conversations")
    show_full_result_count = False


# The captions of the admin index's tables (read out by screen readers), which
# Django's own Finnish catalogue lacks; the project's catalogue translates them.
ADMIN_INDEX_CAPTIONS = (_("Model name"), _("Add link"), _("Change or view list link"))
