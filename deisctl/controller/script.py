# deisctl controller script (deisctl/controller/script.py): fixed code; the request is base64 of JSON.
#
# Not imported on the controller: `python -c BOOTSTRAP` (deisctl.controller) reads this file's text
# from stdin, followed by one line `_deisctl_main("<base64 of the JSON request>")`, and runs it in
# a namespace of its own. So: the standard library, Django and DRF only, never deisctl (it is not
# installed there). Written in what Python 2.7 and 3.x share, for every controller from Deis v1's
# (Python 2.7, Django 1.6, DRF 3.0) to today's Django: where Django's API differs, the code asks
# Django what it has (feature checks), never which version it is. ASCII only (Python 2 compiles
# it without an encoding line).
#
# deisctl imports this module too, for the words both sides use (the vocabulary below); nothing
# here runs on import.
#
# A change is reported as prepared inside its transaction and committed only when the line
# COMMIT_LINE follows on stdin (deisctl.controller.Exchange); end of input, any other line, or
# none within the request's commit_within seconds rolls it back.

# -- The vocabulary: every word a reply carries, spelt here once for both sides ---------------------

MARKER = "deisctl-result:"  # starts each reply line
COMMIT_LINE = b"commit\n"  # the line that lets a prepared change commit

# Actions (the request's "action").
LIST, VERSION, DUMP = "list", "version", "dump"
REVOKE, PROMOTE, DEMOTE = "revoke-token", "promote", "demote"
CREATE, SET_PASSWORD, DELETE = "create", "set-password", "delete"
LOAD = "load"  # a backup's objects saved back (deisctl restore)
CHANGES = (REVOKE, PROMOTE, DEMOTE, CREATE, SET_PASSWORD, DELETE, LOAD)
# What a dump leaves out: what every installation makes for itself (content types, permissions:
# referred to by their natural keys instead) and what is not the controller's data.
NOT_DUMPED = ("contenttypes", "auth.permission", "sessions", "admin")

# What happened to each user (a row's "result"), by action: (done, dry run, nothing to do).
REVOKED, WOULD_REVOKE, NO_TOKEN = "revoked", "would-revoke", "no-token"
PROMOTED, WOULD_PROMOTE, ALREADY_ADMIN = "promoted", "would-promote", "already-admin"
DEMOTED, WOULD_DEMOTE, NOT_ADMIN = "demoted", "would-demote", "not-admin"
CREATED, WOULD_CREATE = "created", "would-create"
PASSWORD_SET, WOULD_SET_PASSWORD = "password-set", "would-set-password"
DELETED, WOULD_DELETE = "deleted", "would-delete"

# Why nothing was changed (a refusal's "refused"; "missing" lists unknown users instead).
LAST_ADMIN = "last-admin"  # no active administrator would remain
EXISTS = "exists"  # create: the name is taken
BAD_PASSWORD = "password"  # the controller's password validators said no ("problems")
BAD_EMAIL = "email"  # Django's e-mail check said no ("problems")
BAD_USERNAME = "username"  # longer than the controller's field allows ("limit"), or its validators said no
OWNS = "owns"  # delete: the users own what the deletion would take along ("owned": {label: count})
ANONYMOUS = "anonymous"  # django-guardian's anonymous user: not to be promoted, given a password or deleted

# The fields of a row, in the order deisctl shows them (Python 2's dicts keep no order).
CHANGE_FIELDS = ("user", "result", "changed", "admin", "token_revoked", "password_checked")
LIST_FIELDS = ("username", "admin", "staff", "has_token", "date_joined")

NOT_COMMITTED_REASON = "no commit order came; rolled back"
CHUNK = 500  # names and ids per query: below sqlite's limit of bound parameters


class NotCommitted(Exception):
    """The commit order did not come (end of input, another line, or too late)."""


class Replies(object):
    """The reply channel: the process's original standard output, kept apart before Django
    starts. Everything else that writes to standard output (the controller's settings print
    lines of their own) then goes to standard error, so that no such line can break or forge a
    reply."""

    def __init__(self):
        import os

        self.fd = os.dup(1)
        os.dup2(2, 1)

    def send(self, **fields):
        import json
        import os

        # A newline first: a reply always starts a line of its own.
        data = ("\n" + MARKER + json.dumps(fields, sort_keys=True) + "\n").encode("ascii")
        while data:
            data = data[os.write(self.fd, data):]


def enter_django():
    """Start Django as the image's own manage.py does (its settings module, its environment,
    whatever else it sets up), with Django's command line replaced: no management command runs."""
    import os
    import runpy

    if not os.path.exists("manage.py"):
        raise SystemExit("deisctl: no manage.py in %s (the controller's app dir: --app-dir)" % os.getcwd())
    import django
    from django.core import management

    entered = []
    original = management.execute_from_command_line
    management.execute_from_command_line = lambda argv=None: entered.append(argv)
    try:
        runpy.run_path("manage.py", run_name="__main__")
    finally:
        management.execute_from_command_line = original
    if not entered:
        raise SystemExit("deisctl: manage.py did not start Django (no call to execute_from_command_line)")
    setup = getattr(django, "setup", None)
    if setup is not None:  # Django 1.7 and later: the app registry
        setup()
    else:  # before it, the app cache fills when asked (as `manage.py shell` asks)
        from django.db.models.loading import get_models

        get_models()
    from django.utils import translation

    translation.activate("en-us")  # as management commands do: the validators' messages in English


class Site(object):
    """What the script needs of this controller, found once: its user model and the field that
    names users, its limit, and django-guardian's anonymous user if it has one."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        self.User = get_user_model()
        self.Token = Token
        self.name_field = self.User.USERNAME_FIELD
        self.name_limit = self.User._meta.get_field(self.name_field).max_length
        self.anonymous_pk = anonymous_user_pk()

    def name(self, user):
        return getattr(user, self.name_field)

    def users_named(self, names):
        """{name: user} of those that exist."""
        found = {}
        for part in in_chunks(names):
            for user in self.User.objects.filter(**{self.name_field + "__in": part}):
                found[self.name(user)] = user
        return found

    def token_holders(self, users):
        held = set()
        for ids in in_chunks([user.pk for user in users]):
            held.update(self.Token.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
        return held


def in_chunks(items):
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def versions():
    """The controller's Python, Django and DRF versions, and what its Django can do."""
    import platform

    import django
    import rest_framework

    return {"python": platform.python_version(), "django": django.get_version(),
            "rest_framework": getattr(rest_framework, "__version__", "unknown"),
            "password_validators": password_validation() is not None}


def password_validation():
    """django.contrib.auth.password_validation (Django 1.9 and later), or None."""
    try:
        from django.contrib.auth import password_validation as module
    except ImportError:
        return None
    return module


def anonymous_user_pk():
    """The pk of django-guardian's anonymous user (a row of the user table that guardian needs,
    which Deis's controller also gave a token), or None without guardian."""
    from django.conf import settings

    if not any(app == "guardian" or app.startswith("guardian.") for app in settings.INSTALLED_APPS):
        return None
    try:
        from guardian.utils import get_anonymous_user

        return get_anonymous_user().pk
    except Exception:  # guardian without its anonymous user (not set up, or removed): none to protect
        return None


def model_label(model):
    """app_label.ObjectName (Model._meta.label from Django 1.9 on)."""
    meta = model._meta
    return getattr(meta, "label", None) or "%s.%s" % (meta.app_label, meta.object_name)


def has_field(model, name):
    return any(field.name == name for field in model._meta.fields)


def active_admins(site, lock):
    """The pks of the active superusers; with lock, held until the transaction ends, so that two
    concurrent demotes (or deletes) cannot each leave the other's administrator as the last one."""
    from django.db import connection

    User = site.User
    admins = User.objects.filter(is_superuser=True, **({"is_active": True} if has_field(User, "is_active") else {}))
    if not lock:
        return set(admins.values_list("pk", flat=True))
    if connection.vendor == "sqlite":
        # No row locks: a write as the transaction's first statement takes the database's write
        # lock (a concurrent demote waits here, then reads what this one wrote). Changes nothing.
        admins.update(is_superuser=True)
    return set(admins.select_for_update().order_by("pk").values_list("pk", flat=True))


def password_problems(password, user):
    """The messages of the controller's own AUTH_PASSWORD_VALIDATORS ([]: acceptable), or None
    when its Django has no password validation (before 1.9): nothing checked the password."""
    module = password_validation()
    if module is None:
        return None
    from django.core.exceptions import ValidationError

    try:
        module.validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def username_problems(site, name):
    """The controller's own rule for a new username: its field's validators (its length among them)."""
    from django.core.exceptions import ValidationError

    try:
        site.User._meta.get_field(site.name_field).run_validators(name)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def owned(site, users):
    """What deleting the users would delete with them, beyond their tokens and their own group
    and permission links (Django's and django-guardian's): {model label: count} (a Deis user's
    apps, keys, certificates...)."""
    from django.db import router
    from django.db.models.deletion import Collector

    collector = Collector(using=router.db_for_write(site.User))
    collector.collect(users)
    found = {}

    def count(model, n):
        meta = model._meta
        if model is site.User or model is site.Token or meta.auto_created or meta.app_label == "guardian" or not n:
            return
        found[model_label(model)] = found.get(model_label(model), 0) + n

    for model, instances in collector.data.items():
        count(model, len(instances))
    for deletion in getattr(collector, "fast_deletes", []):
        count(deletion.model, deletion.count() if hasattr(deletion, "count") else len(deletion))
    return found


def list_users(site, request, replies):
    held = set(site.Token.objects.values_list("user_id", flat=True))
    rows = []
    for user in site.User.objects.order_by(site.name_field):
        if user.pk == site.anonymous_pk:  # guardian's placeholder, not an account: never listed
            continue
        joined = getattr(user, "date_joined", None)
        rows.append({
            "username": site.name(user),
            "admin": bool(getattr(user, "is_superuser", False)),
            "staff": bool(getattr(user, "is_staff", False)),
            "has_token": user.pk in held,
            "date_joined": joined.isoformat() if joined else None,
        })
    replies.send(ok=True, users=rows)


class Refused(Exception):
    """A refusal, sent as the reply; nothing has been changed."""

    def __init__(self, **fields):
        Exception.__init__(self, fields.get("refused", "missing"))
        self.fields = fields


def named_users(site, request):
    """The users the request names (all or none: an unknown one is refused), or with "all" every
    user who has a token (guardian's anonymous user too: its token authenticates as any other)."""
    if request.get("all"):
        holders = site.Token.objects.values("user_id")
        return list(site.User.objects.filter(pk__in=holders).order_by(site.name_field))
    names = request["users"]
    too_long = [name for name in names if site.name_limit and len(name) > site.name_limit]
    if too_long:
        raise Refused(refused=BAD_USERNAME, users=too_long, limit=site.name_limit)
    found = site.users_named(names)
    missing = [name for name in names if name not in found]
    if missing:
        raise Refused(missing=missing)
    return [found[name] for name in names]


def refuse_anonymous(site, users, action):
    if site.anonymous_pk is not None and any(user.pk == site.anonymous_pk for user in users):
        raise Refused(refused=ANONYMOUS, action=action,
                      users=[site.name(user) for user in users if user.pk == site.anonymous_pk])


def revoke_tokens(site, request, users, dry_run):
    held = site.token_holders(users)
    rows = []
    for user in users:
        has = user.pk in held
        result = (WOULD_REVOKE if dry_run else REVOKED) if has else NO_TOKEN
        rows.append({"user": site.name(user), "result": result, "changed": has and not dry_run})
    if not dry_run:
        for ids in in_chunks(sorted(held)):
            site.Token.objects.filter(user_id__in=ids).delete()
    return {"users": rows}


def set_admin(site, request, users, dry_run, admins):
    """promote (admin) or demote: is_superuser and is_staff together."""
    admin = request["action"] == PROMOTE
    extra = {}
    if admin:
        refuse_anonymous(site, users, PROMOTE)
    demoted = [user for user in users if user.pk in admins]  # active administrators demoted
    if demoted and not admins - set(user.pk for user in demoted):  # none would be left
        if not request.get("force"):
            raise Refused(refused=LAST_ADMIN, users=[site.name(user) for user in demoted])
        extra["no_admin_left"] = True
    rows = []
    for user in users:
        changes = user.is_superuser != admin or user.is_staff != admin
        if not changes:
            result = ALREADY_ADMIN if admin else NOT_ADMIN
        elif dry_run:
            result = WOULD_PROMOTE if admin else WOULD_DEMOTE
        else:
            result = PROMOTED if admin else DEMOTED
            user.is_superuser = user.is_staff = admin
            user.save(update_fields=["is_superuser", "is_staff"])
        rows.append({"user": site.name(user), "result": result, "changed": changes and not dry_run})
    extra["users"] = rows
    return extra


def set_password(site, request, users, dry_run):
    (user,) = users
    refuse_anonymous(site, users, SET_PASSWORD)
    problems = password_problems(request["password"], user)
    if problems:
        raise Refused(refused=BAD_PASSWORD, problems=problems, users=[site.name(user)])
    revoke = bool(request.get("revoke_token")) and user.pk in site.token_holders([user])
    if not dry_run:
        user.set_password(request["password"])
        user.save(update_fields=["password"])
        if revoke:
            site.Token.objects.filter(user_id=user.pk).delete()
    return {"users": [{"user": site.name(user), "result": WOULD_SET_PASSWORD if dry_run else PASSWORD_SET,
                       "changed": not dry_run, "token_revoked": revoke and not dry_run,
                       "password_checked": problems is not None}]}


def delete_users(site, request, users, dry_run, admins):
    refuse_anonymous(site, users, DELETE)
    deleted_admins = [user for user in users if user.pk in admins]
    if deleted_admins and not admins - set(user.pk for user in deleted_admins):  # never the last one
        raise Refused(refused=LAST_ADMIN, users=[site.name(user) for user in deleted_admins])
    belongings = owned(site, users)
    if belongings:  # deleting would delete these too
        raise Refused(refused=OWNS, owned=belongings, users=[site.name(user) for user in users])
    rows = [{"user": site.name(user), "result": WOULD_DELETE if dry_run else DELETED, "changed": not dry_run}
            for user in users]
    if not dry_run:
        for ids in in_chunks([user.pk for user in users]):
            site.User.objects.filter(pk__in=ids).delete()
    return {"users": rows}


def create_user(site, request, dry_run):
    """A new user with the password given (checked by the controller's validators where it has
    them), an e-mail address (Django's own check) and, if asked, administrator rights."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.db import IntegrityError, transaction

    (name,) = request["users"]
    problems = username_problems(site, name)
    if problems:
        raise Refused(refused=BAD_USERNAME, users=[name], problems=problems, limit=site.name_limit)
    if site.User.objects.filter(**{site.name_field: name}).exists():
        raise Refused(refused=EXISTS, users=[name])
    user = site.User(**{site.name_field: name})
    email = request.get("email")
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise Refused(refused=BAD_EMAIL, problems=list(exc.messages), users=[name])
        user.email = email
    if request.get("admin"):
        user.is_superuser = user.is_staff = True
    problems = password_problems(request["password"], user)
    if problems:
        raise Refused(refused=BAD_PASSWORD, problems=problems, users=[name])
    row = {"user": name, "result": WOULD_CREATE if dry_run else CREATED, "changed": not dry_run,
           "admin": bool(request.get("admin")), "password_checked": problems is not None}
    if not dry_run:
        user.set_password(request["password"])
        try:
            with transaction.atomic():  # a savepoint: a concurrent create of the same name loses here
                user.save()
        except IntegrityError:
            raise Refused(refused=EXISTS, users=[name])
    return {"users": [row]}


def installed_models():
    """Every model of the installed apps (django.apps from Django 1.7 on; the app cache before)."""
    try:
        from django.apps import apps

        return list(apps.get_models())
    except ImportError:
        from django.db.models import get_models

        return list(get_models())


def dumped_models():
    """The models a dump holds, each after those its foreign keys point to (a load saves them in
    that order)."""
    chosen = [model for model in installed_models()
              if model._meta.app_label not in NOT_DUMPED and model_label(model).lower() not in NOT_DUMPED
              and not model._meta.proxy]
    ordered, placed = [], set()
    while chosen:
        progress = False
        for model in list(chosen):
            targets = set()
            for field in model._meta.fields:
                target = getattr(getattr(field, "remote_field", None), "model", None) or \
                    getattr(getattr(field, "rel", None), "to", None)
                if target is not None and target is not model and target in chosen:
                    targets.add(target)
            if not targets - placed:
                ordered.append(model)
                placed.add(model)
                chosen.remove(model)
                progress = True
        if not progress:  # a cycle of foreign keys: the rest as they are (the database defers the checks)
            ordered += chosen
            break
    return ordered


def serialized(queryset):
    """Objects as Django's JSON serializer gives them, foreign keys to content types and
    permissions by their natural keys (their pks differ between installations)."""
    import json

    from django.core import serializers

    try:
        text = serializers.serialize("json", queryset, use_natural_foreign_keys=True)
    except TypeError:  # Django before 1.7
        text = serializers.serialize("json", queryset, use_natural_keys=True)
    return json.loads(text)


def dump(site, request, replies):
    objects = []
    for model in dumped_models():
        objects += serialized(model._default_manager.order_by("pk"))
    replies.send(ok=True, objects=objects, **versions())


class DryRunDone(Exception):
    """Ends a dry run's savepoint: what it saved is rolled back."""


def load_objects(site, request, dry_run):
    """A dump's objects saved back, in its order: created where their pk is free, else updated.
    A dry run saves them too, in a savepoint it then rolls back: every object checked as the real
    load would (foreign keys by natural key resolve against what was saved before them)."""
    import json

    from django.core import serializers
    from django.db import transaction

    counts = {"created": 0, "updated": 0}
    try:
        with transaction.atomic():
            for item in serializers.deserialize("json", json.dumps(request["objects"])):
                model = type(item.object)
                exists = model._default_manager.filter(pk=item.object.pk).exists()
                if model is site.Token:  # a token the controller made as the user was saved (Deis does): the dump's wins
                    site.Token.objects.filter(user_id=item.object.user_id).exclude(pk=item.object.pk).delete()
                item.save()
                counts["updated" if exists else "created"] += 1
            if dry_run:
                raise DryRunDone()
    except DryRunDone:
        pass
    return dict(users=[], **counts)


def prepare(site, request):
    """The change, made inside the caller's transaction: the reply's fields."""
    action, dry_run = request["action"], bool(request.get("dry_run"))
    if action == LOAD:
        return load_objects(site, request, dry_run)
    # Before any other query: on sqlite the lock must be the transaction's first statement.
    admins = active_admins(site, lock=not dry_run) if action in (DEMOTE, DELETE) else set()
    if action == CREATE:
        return create_user(site, request, dry_run)
    users = named_users(site, request)
    if action == REVOKE:
        return revoke_tokens(site, request, users, dry_run)
    if action in (PROMOTE, DEMOTE):
        return set_admin(site, request, users, dry_run, admins)
    if action == SET_PASSWORD:
        return set_password(site, request, users, dry_run)
    return delete_users(site, request, users, dry_run, admins)  # the last of CHANGES


def commit_ordered(within):
    """True once the line COMMIT_LINE came on stdin; False at its end or on any other line;
    NotCommitted when none came within `within` seconds (a timer signal). Read through the
    reader BOOTSTRAP read the script with (Python 3's stdin.buffer, Python 2's stdin), which may
    hold the line already."""
    import signal
    import sys

    def too_late(signum, frame):
        raise NotCommitted()

    reader = getattr(sys.stdin, "buffer", sys.stdin)
    previous = signal.signal(signal.SIGALRM, too_late)
    signal.setitimer(signal.ITIMER_REAL, within)
    try:
        return reader.readline() == COMMIT_LINE
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def change(site, request, replies):
    """Prepare the change in a transaction, report it, and commit only on deisctl's order."""
    from django.db import transaction

    dry_run = bool(request.get("dry_run"))
    try:
        with transaction.atomic():
            fields = prepare(site, request)
            if dry_run:
                replies.send(ok=True, **fields)
                return
            replies.send(ok=True, prepared=True, **fields)
            if not commit_ordered(float(request["commit_within"])):
                raise NotCommitted()
    except Refused as refusal:
        replies.send(ok=False, **refusal.fields)
        return
    except NotCommitted:
        replies.send(ok=False, committed=False, reason=NOT_COMMITTED_REASON)
        return
    replies.send(ok=True, committed=True)


def main(payload):
    import base64
    import json

    replies = Replies()  # first: before the controller's settings can print anything
    request = json.loads(base64.b64decode(payload).decode("utf-8"))
    enter_django()
    action = request["action"]
    if action == VERSION:
        site = Site()
        replies.send(ok=True, username_max=site.name_limit, **versions())
    elif action == LIST:
        list_users(Site(), request, replies)
    elif action == DUMP:
        dump(Site(), request, replies)
    elif action in CHANGES:
        change(Site(), request, replies)
    else:
        raise ValueError("unknown action: %s" % (action,))


def _deisctl_main(payload):
    """The entry point: the line deisctl appends to this text calls it."""
    main(payload)
