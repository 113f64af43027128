"""
C{oso-cti}: drive and watch a CSTA server from a shell.

    oso-cti --server HOST:8800 [--xml|--ber] [--user U --password P] COMMAND ...

Commands: C{dial FROM TO}, C{answer DEV}, C{hangup DEV}, C{hold DEV},
C{transfer DEV TO} (single step), C{forward DEV TO|off}, C{dnd DEV on|off},
C{monitor DEV...} (one line per event until interrupted), C{snapshot DEV}.

Exit codes (see C{doc/cti.md}): 0 done; 1 refused by the server (its
universal failure on stderr) or no call in the state the command needs;
2 usage error; 3 cannot connect, link refused or lost.
"""

import argparse
import sys

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.task import react

from oso.callmodel.errors import CSTAError
from oso.callmodel.states import LocalConnectionState
from oso.csta import messages as m
from oso.csta.framing import Encoding
from oso.cti.callstates import LineStates
from oso.cti.client import ClientSettings
from oso.cti.errors import CTIError
from oso.cti.protocol import connect

OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3


class Refused(Exception):
    """
    A command cannot be done for a reason the server's state gives.
    """


def parser():
    p = argparse.ArgumentParser(prog="oso-cti", description="Drive and watch calls over CSTA.")
    p.add_argument("--server", required=True, metavar="HOST:PORT", help="the CSTA server")
    encoding = p.add_mutually_exclusive_group()
    encoding.add_argument("--xml", dest="encoding", action="store_const", const=Encoding.XML)
    encoding.add_argument("--ber", dest="encoding", action="store_const", const=Encoding.BER)
    p.set_defaults(encoding=Encoding.BER)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("dial", help="call TO from FROM").add_argument("devices", nargs=2, metavar="DEV")
    for name, what in (("answer", "answer the call alerting at DEV"), ("hangup", "clear DEV's calls"),
                       ("hold", "hold DEV's connected call"), ("snapshot", "list DEV's calls")):
        commands.add_parser(name, help=what).add_argument("devices", nargs=1, metavar="DEV")
    commands.add_parser("transfer", help="send DEV's connected call to TO").add_argument(
        "devices", nargs=2, metavar="DEV")
    commands.add_parser("forward", help="forward DEV to TO, or off").add_argument(
        "devices", nargs=2, metavar="DEV")
    commands.add_parser("dnd", help="do not disturb on or off").add_argument(
        "devices", nargs=2, metavar="DEV")
    commands.add_parser("monitor", help="print events until interrupted").add_argument(
        "devices", nargs="+", metavar="DEV")
    return p


def endpointFor(server):
    """
    C{HOST:PORT} (C{[v6]:PORT} for IPv6) as a client endpoint string.
    """
    host, sep, port = server.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--server wants HOST:PORT, not {server!r}")
    host = host.strip("[]").replace(":", "\\:")
    return f"tcp:host={host}:port={port}"


def out(line):
    print(line, flush=True)


async def connections(client, device, *wanted):
    """
    @return: C{device}'s connections whose own state is one of C{wanted}.
    """
    snapshot = await client.invoke(m.SnapshotDevice(snapshotObject=device))
    found = [
        info.connectionIdentifier for info in snapshot.snapshotData
        if isinstance(info.localCallState, tuple) and info.localCallState[:1] and info.localCallState[0] in wanted
    ]
    if not found:
        raise Refused(f"no call {'/'.join(s.name for s in wanted)} at {device}")
    return found


async def dial(client, calling, called):
    request = m.MakeCall(callingDevice=calling, calledDirectoryNumber=called, autoOriginate=m.AutoOriginate.doNotPrompt)
    response = await client.invoke(request)
    out(f"call {response.callingDevice.callID} {response.callingDevice}")


async def answer(client, device):
    for connection in (await connections(client, device, LocalConnectionState.alerting))[:1]:
        await client.invoke(m.AnswerCall(callToBeAnswered=connection))
        out(f"answered {connection}")


async def hangup(client, device):
    states = set(LocalConnectionState) - {LocalConnectionState.null}
    for connection in await connections(client, device, *states):
        await client.invoke(m.ClearConnection(connectionToBeCleared=connection))
        out(f"cleared {connection}")


async def hold(client, device):
    for connection in (await connections(client, device, LocalConnectionState.connected))[:1]:
        await client.invoke(m.HoldCall(callToBeHeld=connection))
        out(f"held {connection}")


async def transfer(client, device, destination):
    for connection in (await connections(client, device, LocalConnectionState.connected))[:1]:
        await client.invoke(m.SingleStepTransferCall(activeCall=connection, transferredTo=destination))
        out(f"transferred {connection} to {destination}")


async def forward(client, device, destination):
    on = destination != "off"
    await client.invoke(m.SetForwarding(
        device=device, activateForward=on, forwardDN=destination if on else None,
        forwardingType=m.ForwardingType.forwardImmediate,
    ))
    out(f"{device} forwarded to {destination}" if on else f"{device} forwarding off")


async def dnd(client, device, setting):
    await client.invoke(m.SetDoNotDisturb(device=device, doNotDisturbOn=setting == "on"))
    out(f"{device} do not disturb {setting}")


async def snapshot(client, device):
    response = await client.invoke(m.SnapshotDevice(snapshotObject=device))
    for info in response.snapshotData:
        state = info.localCallState
        names = " ".join(s.name for s in state) if isinstance(state, tuple) else getattr(state, "name", "unknown")
        out(f"{info.connectionIdentifier} {names}")


def describe(device, event, changes):
    """
    One line for one event of C{device}'s monitor: the device, the event,
    its subject connection, cause and the TAPI call states it leads to.
    """
    name = type(event).__name__.removesuffix("Event")
    subject = ""
    for field in ("initiatedConnection", "originatedConnection", "connection", "establishedConnection",
                  "heldConnection", "retrievedConnection", "droppedConnection", "clearedCall",
                  "failedConnection", "queuedConnection", "outboundConnection", "primaryOldCall"):
        value = getattr(event, field, None)
        if value is not None:
            subject = f" {value}" if value.deviceID else f" call {value.callID}"
            break
    cause = getattr(event, "cause", None)
    line = f"{device} {name}{subject}"
    if cause is not None:
        line += f" cause={cause.name}"
    for change in changes:
        line += f" call{change.callID}={change.state.value}"
    return line


async def monitor(client, *devices):
    for device in devices:
        response = await client.invoke(m.MonitorStart(monitorObject=device))
        states = LineStates(device)
        client.addEventObserver(
            lambda event, d=device, s=states: out(describe(d, event, s.feed(event))),
            response.monitorCrossRefID,
        )
        out(f"monitoring {device}")
    gone = Deferred()
    client.whenClosed(lambda: gone.callback(None))
    await gone
    raise CTIError("the CSTA link closed")


COMMANDS = {
    "dial": dial, "answer": answer, "hangup": hangup, "hold": hold, "transfer": transfer,
    "forward": forward, "dnd": dnd, "snapshot": snapshot, "monitor": monitor,
}


async def run(reactor, options):
    settings = ClientSettings(
        encoding=options.encoding, user=options.user, password=options.password,
        invokeTimeout=options.timeout, heartbeatInterval=0,
    )
    try:
        client = await connect(reactor, endpointFor(options.server), settings)
    except (ConnectError, DNSLookupError, CTIError, OSError) as e:
        sys.stderr.write(f"oso-cti: cannot reach {options.server}: {e}\n")
        return UNREACHABLE
    stopping = []
    # An interrupt (SIGINT, SIGTERM) stops the reactor: the end a monitor
    # is meant to have, not a lost link.
    reactor.addSystemEventTrigger("before", "shutdown", stopping.append, True)
    try:
        await COMMANDS[options.command](client, *options.devices)
    except CSTAError as e:
        sys.stderr.write(f"oso-cti: refused: {e.failure}{': ' + e.reason if e.reason else ''}\n")
        return REFUSED
    except Refused as e:
        sys.stderr.write(f"oso-cti: {e}\n")
        return REFUSED
    except CTIError as e:
        if stopping:
            return OK
        sys.stderr.write(f"oso-cti: {e}\n")
        return UNREACHABLE
    await client.release()
    return OK


def main(argv=None):
    p = parser()
    options = p.parse_args(argv)
    try:
        endpointFor(options.server)
        ClientSettings(user=options.user, password=options.password)
        if options.command == "dnd" and options.devices[1] not in ("on", "off"):
            raise ValueError(f"dnd wants on or off, not {options.devices[1]!r}")
    except ValueError as e:
        p.error(str(e))

    async def command(reactor):
        code = await run(reactor, options)
        if code:
            raise SystemExit(code)

    react(lambda reactor: ensureDeferred(command(reactor)))


if __name__ == "__main__":
    main()
