"""`banyan events import FILE` and `banyan ingest redis STREAM`: events from outside (court
filings, 失信被执行人 listings, rating changes …) through runtime/events, each idempotent by its
event number and accepted or rejected on its own."""
from __future__ import annotations

import json
import signal
import sys

import click

from dsl.errors import env_lang
from runtime.cli.common import env_option, handle_errors
from runtime.cli.main import main
from runtime.cli.records import Door, as_option


def _intake(door: Door):
    from runtime.events.intake import EventIntake
    return EventIntake(door.records.engine, records=door.records)


def _report(outcome, fmt: str, where: str) -> None:
    """The outcome as JSON, or a line of counts and one line per rejected event (in the operator's language)."""
    lang = env_lang()
    if fmt == "json":
        click.echo(json.dumps(outcome.to_dict(lang), ensure_ascii=False, indent=2, default=str))
    else:
        zh = lang == "zh"
        click.echo((f"{outcome.entity}：接收 {len(outcome.accepted)} 条，重复 {len(outcome.duplicates)} 条，"
                    f"拒收 {len(outcome.rejected)} 条") if zh else
                   (f"{outcome.entity}: {len(outcome.accepted)} accepted, {len(outcome.duplicates)} duplicate(s), "
                    f"{len(outcome.rejected)} rejected"))
        for r in outcome.rejected:
            problems = "; ".join(f"{'.'.join(map(str, p.path)) + ': ' if p.path else ''}{p.text(lang)}"
                                 for p in r.problems)
            click.echo(f"  {where} {r.index}{f' ({r.key})' if r.key else ''}: {problems}", err=True)
    if outcome.rejected:
        sys.exit(1)


@main.group()
def events() -> None:
    """Events from outside: court filings, listings, equity freezes, rating changes, news."""


@events.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--entity", default=None, help="The events entity (default: the one marked `events: true`).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@as_option
@env_option
@handle_errors
def import_events(path: str, entity: str | None, fmt: str, as_user: str | None, env: str | None) -> None:
    """Take the events of a CSV or XLSX file (a header row of field names or labels): each one
    accepted, a duplicate of one stored (same event number), or rejected with its problems by
    line; the rejected ones never stop the others. Exit 1 when any was rejected."""
    door = Door(env, as_user)
    door.permit("records.import")
    _report(_intake(door).take_file(path, entity=entity, actor=door.actor, scope=door.scope), fmt,
            "行" if env_lang() == "zh" else "line")


@main.group()
def ingest() -> None:
    """Take events from a message stream."""


@ingest.command("redis")
@click.argument("stream")
@click.option("--url", default="redis://127.0.0.1:6379/0", show_default=True, envvar="BANYAN_REDIS_URL",
              help="The Redis server (or BANYAN_REDIS_URL).")
@click.option("--group", default="banyan", show_default=True, help="The consumer group.")
@click.option("--consumer", default=None, help="This consumer's name in the group (default: host-banyan).")
@click.option("--entity", default=None, help="The events entity (default: the one marked `events: true`).")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 5000))
@click.option("--once", is_flag=True, help="Take what is waiting, then stop.")
@env_option
@handle_errors
def ingest_redis(stream: str, url: str, group: str, consumer: str | None, entity: str | None, batch: int, once: bool,
                 env: str | None) -> None:
    """Read STREAM as a consumer group: each entry one event (its fields, or a field `event` with a
    JSON object). Entries are acknowledged after their transaction commits; rejected ones go to
    STREAM:rejected with their problems. Runs until stopped (Ctrl-C, SIGTERM), or with --once
    until nothing is waiting."""
    import redis
    door = Door(env, None)
    from runtime.events.stream import StreamConsumer
    try:
        client = redis.Redis.from_url(url)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise click.ClickException(f"the Redis server at {url} does not answer ({type(exc).__name__}); "
                                   "start it or give --url") from None
    consumer = StreamConsumer(_intake(door), client, stream, group=group, consumer=consumer, entity=entity,
                              batch=batch)
    zh = env_lang() == "zh"

    def said(p) -> None:
        click.echo((f"{stream}：读取 {p.read}，接收 {p.accepted}，重复 {p.duplicates}，拒收 {p.rejected}") if zh else
                   (f"{stream}: {p.read} read, {p.accepted} accepted, {p.duplicates} duplicate(s), "
                    f"{p.rejected} rejected"))
    if once:
        try:
            said(consumer.run_once())
        except redis.RedisError as exc:
            raise click.ClickException(f"the Redis server at {url} stopped answering ({type(exc).__name__})") from None
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        consumer.run(lambda: bool(stopping), on_pass=said)
    except KeyboardInterrupt:
        pass
    except redis.RedisError as exc:
        raise click.ClickException(f"the Redis server at {url} stopped answering ({type(exc).__name__}); what was "
                                   "taken is committed and acknowledged, start again to go on") from None
