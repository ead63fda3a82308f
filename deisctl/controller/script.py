# deisctl controller script (deisctl/controller/script.py): fixed code; the request is base64 of JSON.
#
# Not imported on the controller: `manage.py shell -c BOOTSTRAP` reads this file's text from stdin,
# followed by one line `_deisctl_main("<base64 of the JSON request>")` (deisctl.controller.framed),
# and runs it. So: stdlib, Django and DRF only, never deisctl (it is not installed there).
# A change is reported as prepared inside its transaction and committed only when the line
# "commit" follows on stdin (deisctl.controller.Exchange); end of input rolls it back.


def _deisctl_main(payload):
    import base64
    import json
    import signal
    import sys

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    request = json.loads(base64.b64decode(payload).decode("utf-8"))
    action, dry_run = request["action"], bool(request.get("dry_run"))
    User = get_user_model()
    name_of = User.USERNAME_FIELD
    chunk = 500  # below sqlite's limit of bound parameters per query

    def report(**result):
        sys.stdout.write("\n" + "deisctl-result:" + json.dumps(result) + "\n")
        sys.stdout.flush()

    class NotCommitted(Exception):
        pass

    def commit_ordered(within):
        """True once the line "commit" came on stdin; False at its end, on any other line, or when
        none came within `within` seconds. Read through sys.stdin.buffer, the reader BOOTSTRAP
        read the script with (it may hold the line already); the limit is a timer signal."""
        def too_late(signum, frame):
            raise NotCommitted()

        previous = signal.signal(signal.SIGALRM, too_late)
        signal.setitimer(signal.ITIMER_REAL, within)
        try:
            return sys.stdin.buffer.readline() == b"commit\n"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def in_chunks(items):
        return [items[i:i + chunk] for i in range(0, len(items), chunk)]

    def active_admins(lock):
        """The pks of the active superusers; with lock, held until the transaction ends, so that
        two concurrent demotes cannot each leave the other's administrator as the last one."""
        fields = {field.name for field in User._meta.get_fields()}
        admins = User.objects.filter(is_superuser=True, **({"is_active": True} if "is_active" in fields else {}))
        if not lock:
            return set(admins.values_list("pk", flat=True))
        if connection.vendor == "sqlite":
            # No row locks: a write as the transaction's first statement takes the database's write
            # lock (a concurrent demote waits here, then reads what this one wrote). Changes nothing.
            admins.update(is_superuser=True)
        return set(admins.select_for_update().order_by("pk").values_list("pk", flat=True))

    def password_problems(password, user):
        """The messages of the controller's own AUTH_PASSWORD_VALIDATORS (none: acceptable)."""
        from django.contrib.auth import password_validation
        from django.core.exceptions import ValidationError

        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            return list(exc.messages)
        return []

    def owned(users):
        """What deleting the users would delete with them, beyond their tokens and their own
        group and permission links: {model label: count} (a Deis user's apps, say)."""
        from django.db import router
        from django.db.models.deletion import Collector

        collector = Collector(using=router.db_for_write(User))
        collector.collect(users)
        found = {}

        def count(model, n):
            if model is User or model is Token or model._meta.auto_created or not n:
                return
            found[model._meta.label] = found.get(model._meta.label, 0) + n

        for model, instances in collector.data.items():
            count(model, len(instances))
        for deletion in collector.fast_deletes:
            count(deletion.model, deletion.count() if hasattr(deletion, "count") else len(deletion))
        return found

    def token_holders(users):
        held = set()
        for ids in in_chunks([u.pk for u in users]):
            held.update(Token.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
        return held

    if action == "list":
        held = set(Token.objects.values_list("user_id", flat=True))
        rows = []
        for user in User.objects.order_by(name_of):
            joined = getattr(user, "date_joined", None)
            rows.append({
                "username": getattr(user, name_of),
                "admin": bool(getattr(user, "is_superuser", False)),
                "staff": bool(getattr(user, "is_staff", False)),
                "has_token": user.pk in held,
                "date_joined": joined.isoformat() if joined else None,
            })
        report(ok=True, users=rows)
        return

    def prepare(request, action, dry_run):
        """The change made inside the caller's transaction: its reply fields; None when the
        reply was given already (a refusal, a dry run), with nothing changed."""
        # Before any other query: on sqlite the lock must be the transaction's first statement.
        admins = active_admins(lock=not dry_run) if action in ("demote", "delete") else set()
        if action == "create":
            return create(request, dry_run)
        if request.get("all"):
            users = list(User.objects.filter(pk__in=Token.objects.values("user_id")).order_by(name_of))
        else:
            names = request["users"]
            found = {}
            for part in in_chunks(names):
                for user in User.objects.filter(**{name_of + "__in": part}):
                    found[getattr(user, name_of)] = user
            missing = [n for n in names if n not in found]
            if missing:  # all or nothing: nothing has been changed yet
                report(ok=False, missing=missing)
                return
            users = [found[n] for n in names]

        results, extra = [], {}
        if action == "revoke-token":
            held = token_holders(users)
            for user in users:
                has = user.pk in held
                outcome = ("would-revoke" if dry_run else "revoked") if has else "no-token"
                results.append({"user": getattr(user, name_of), "result": outcome, "changed": has and not dry_run})
            if not dry_run:
                for ids in in_chunks(sorted(held)):
                    Token.objects.filter(user_id__in=ids).delete()
        elif action in ("promote", "demote"):
            admin = action == "promote"
            demoted = [user for user in users if user.pk in admins]  # active administrators demoted
            if demoted and not admins - {user.pk for user in demoted}:  # none would be left
                if not request.get("force"):  # nothing has been changed yet
                    report(ok=False, refused="last-admin", users=[getattr(user, name_of) for user in demoted])
                    return
                extra["no_admin_left"] = True
            for user in users:
                changes = user.is_superuser != admin or user.is_staff != admin
                if not changes:
                    outcome = "already-admin" if admin else "not-admin"
                elif dry_run:
                    outcome = "would-promote" if admin else "would-demote"
                else:
                    outcome = "promoted" if admin else "demoted"
                    user.is_superuser = user.is_staff = admin
                    user.save(update_fields=["is_superuser", "is_staff"])
                results.append({"user": getattr(user, name_of), "result": outcome,
                                "changed": changes and not dry_run})
        elif action == "set-password":
            (user,) = users
            problems = password_problems(request["password"], user)
            if problems:  # nothing has been changed yet
                report(ok=False, refused="password", problems=problems, users=[getattr(user, name_of)])
                return
            revoke = bool(request.get("revoke_token")) and user.pk in token_holders([user])
            if not dry_run:
                user.set_password(request["password"])
                user.save(update_fields=["password"])
                if revoke:
                    Token.objects.filter(user_id=user.pk).delete()
            results.append({"user": getattr(user, name_of), "result": "would-set-password" if dry_run else
                            "password-set", "changed": not dry_run, "token_revoked": revoke and not dry_run})
        elif action == "delete":
            deleted_admins = [user for user in users if user.pk in admins]
            if deleted_admins and not admins - {user.pk for user in deleted_admins}:  # never the last one
                report(ok=False, refused="last-admin", users=[getattr(user, name_of) for user in deleted_admins])
                return
            belongings = owned(users)
            if belongings:  # deleting would delete these too: refused, nothing has been changed yet
                report(ok=False, refused="owns", owned=belongings, users=[getattr(user, name_of) for user in users])
                return
            for user in users:
                results.append({"user": getattr(user, name_of), "result": "would-delete" if dry_run else "deleted",
                                "changed": not dry_run})
            if not dry_run:
                for ids in in_chunks([user.pk for user in users]):
                    User.objects.filter(pk__in=ids).delete()
        else:
            raise ValueError("unknown action %r" % (action,))
        if dry_run:
            report(ok=True, users=results, **extra)
            return None
        return dict(users=results, **extra)

    def create(request, dry_run):
        """A new user with the password given (checked by the controller's validators), an
        e-mail address (Django's own check) and, if asked, administrator rights."""
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        (name,) = request["users"]
        if User.objects.filter(**{name_of: name}).exists():
            report(ok=False, refused="exists", users=[name])
            return None
        user = User(**{name_of: name})
        email = request.get("email")
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                report(ok=False, refused="email", problems=list(exc.messages), users=[name])
                return None
            user.email = email
        if request.get("admin"):
            user.is_superuser = user.is_staff = True
        problems = password_problems(request["password"], user)
        if problems:
            report(ok=False, refused="password", problems=problems, users=[name])
            return None
        row = {"user": name, "result": "would-create" if dry_run else "created", "changed": not dry_run,
               "admin": bool(request.get("admin"))}
        if dry_run:
            report(ok=True, users=[row])
            return None
        user.set_password(request["password"])
        from django.db import IntegrityError

        try:
            with transaction.atomic():  # a savepoint: a concurrent create of the same name loses here
                user.save()
        except IntegrityError:
            report(ok=False, refused="exists", users=[name])
            return None
        return dict(users=[row])

    try:
        with transaction.atomic():
            changed = prepare(request, action, dry_run)
            if changed is None:  # reported already (a refusal, or a dry run): nothing to commit
                return
            report(ok=True, prepared=True, **changed)
            if not commit_ordered(float(request["commit_within"])):  # may raise NotCommitted too
                raise NotCommitted()
    except NotCommitted:
        report(ok=False, committed=False, reason="no commit order came; rolled back")
        return
    report(ok=True, committed=True)

