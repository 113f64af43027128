"""
SIP load on loopback, driven by SIPp (issue 3's benchmark): REGISTER/s with
digest authentication, and completed calls/s (INVITE-200-ACK-BYE through
the target to a SIPp UAS) with failed calls and retransmissions, against
three targets measured in one run on this machine:

- the minimal Twisted UDP responder of bench/sip_responder.py, which
  answers 200 to everything (no digest, no UAS): the issue's anchor. At
  the default --concurrency of 100 its rate is set by SIPp's pacing, not
  by either process's CPU (each uses about a quarter of a core): it grows
  with --concurrency (doc/sip.md, "Tenth pass: answers written at once");
- the same responder with C{--digest} ("digest-floor"), which challenges
  and checks each REGISTER with the least work RFC 2617 allows and keeps
  no transactions, store or syntax checks: the floor under any Python
  registrar with digest;
- Kamailio, if installed, as an in-memory registrar (usrloc db_mode 0,
  digest with a plain password) and stateful record-routing proxy, one
  worker process and the TLSF allocator (../shared/doc/PEERS.md);
- oso (C{twistd -n oso}) with the C{sip} and C{sip-lines} components,
  once C{oso/plugins/sip.py} exists.

It prints each rate, the targets' CPU time per REGISTER and per call (for
oso split into its main thread and the others: the store's), and
the ratios to the responder and to Kamailio. Targets of the issue: REGISTER
at least half the responder's rate; calls at least 400/s with no failed
call.

It runs the Python targets (the responders, oso) on the interpreter it runs
on, and names it.

    python bench/sip_load.py [--registers 20000] [--calls 5000]
                             [--concurrency 100] [--call-concurrency 50]
                             [--targets responder digest-floor kamailio oso]
                             [--keep]
                             [--profile FILE]
"""

import argparse
import csv
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
CHECKOUT = BENCH.parent
HOST = "127.0.0.1"
PASSWORD = "bench-secret"
USERS = [str(n) for n in range(300, 320)]
CALLER, CALLEE = "200", "201"
#: For oso, a PBX, an extension has one call at a time: the call load comes
#: from many calling extensions, and the callee is a hunt group whose
#: members are registered at the SIPp UAS (the others take CALLER/CALLEE).
#: SIPp hands the callers out in turn while up to --call-concurrency calls
#: are in flight, so there are twice as many callers as calls in flight (a
#: caller's next call starts long after its last one ended) and more
#: members than calls in flight (a free one is always there).  (Each
#: extension costs oso a password hash at its first start.)
def osoCallers(concurrency):
    return [str(n) for n in range(20000, 20000 + 2 * concurrency)]


def osoMembers(concurrency):
    return [str(n) for n in range(50000, 50000 + concurrency + 20)]


CALL_TARGET = 400

# The credentials come from -au [field0] -ap [field1]: SIPp 3.6 does not
# read a [field] inside [authentication ...].
_AUTHENTICATION = "      [authentication]\n"
# The audio offer and answer of both SIPp phones.
_SDP = """\
      v=0
      o=- 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv
"""
_HEAD = """\
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]SIPpTag[call_number]
      Call-ID: [call_id]
      Max-Forwards: 70
"""

# REGISTER, answered at once (the responder) or after a 401 with digest.
REGISTER = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register">
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      To: <sip:[field0]@[remote_ip]>
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[field2]>
      Expires: 3600
      Content-Length: 0

  ]]></send>
  <recv response="200" optional="true" next="1"/>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      To: <sip:[field0]@[remote_ip]>
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[field2]>
{_AUTHENTICATION}      Expires: 3600
      Content-Length: 0

  ]]></send>
  <recv response="200"/>
  <label id="1"/>
</scenario>
"""

def _invite(cseq, authentication=""):
    return f"""<![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      To: <sip:[service]@[remote_ip]>
      CSeq: {cseq} INVITE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
{authentication}      Content-Type: application/sdp
      Content-Length: [len]

{_SDP}
  ]]>"""


def _inDialog(method, cseq):
    return f"""<![CDATA[
      {method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      [routes]
      CSeq: {cseq} {method}
      Max-Forwards: 70
      Content-Length: 0

  ]]>"""


# A call: INVITE (answering a 407 if there is one), 200, ACK, BYE, 200;
# ACK and BYE follow the record-route set.
UAC = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="call">
  <send retrans="500">{_invite(1)}</send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" optional="true" rrs="true" next="1"/>
  <recv response="407" auth="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-6]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]SIPpTag[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <send retrans="500">{_invite(2, _AUTHENTICATION)}</send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send next="2">{_inDialog("ACK", "2")}</send>
  <label id="1"/>
  <send>{_inDialog("ACK", "1")}</send>
  <label id="2"/>
  <send retrans="500">{_inDialog("BYE", "3")}</send>
  <recv response="200" crlf="true"/>
</scenario>
"""

# The called phone: answers at once, echoes the record-route set, takes the
# ACK and the BYE.
UAS = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="answer">
  <recv request="INVITE" crlf="true"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

{_SDP}
  ]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
</scenario>
"""

KAMAILIO = """#!KAMAILIO
debug=0
log_stderror=yes
children={children}
listen=udp:{host}:{port}
maxbuffer=4194304
auto_aliases=no
alias="{host}:{port}"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"

modparam("usrloc", "db_mode", 0)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) t_relay();
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$td", "{password}", "0")) {{
            www_challenge("$td", "0");
            exit;
        }}
        save("location");
        exit;
    }}
    if (is_method("INVITE")) {{
        record_route();
        $du = "sip:{host}:{uas}";
    }}
    t_relay();
}}
"""


def freePort():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpuSeconds(pid):
    """
    User and system CPU time of a process and its children that still run
    (Kamailio's workers), from /proc.
    """
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def threadSeconds(pid):
    """
    CPU time of the threads of a process, from /proc: C{(main thread's
    user time, main thread's system time, all others' user and system
    time)}.  The main thread's system time is mostly its C{recvfrom} and
    C{sendto} (on loopback a send also runs the receiver's wake-up).
    """
    tick = os.sysconf("SC_CLK_TCK")
    user = system = others = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(task.name) == pid:
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
        else:
            others += (int(fields[11]) + int(fields[12])) / tick
    return user, system, others


def waitForUDP(port, process, seconds=20):
    """
    Wait until something listens on UDP C{port} (or C{process} exits).
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on UDP {port} after {seconds} s")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Result:
    """
    What one SIPp run measured.
    """

    def __init__(self, done, failed, retransmissions, seconds, cpu, threads=None):
        self.done = done
        self.failed = failed
        self.retransmissions = retransmissions
        self.seconds = seconds
        self.cpu = cpu
        #: CPU seconds of the main thread (user, system) and of the others
        #: (oso's store thread and thread pool), or C{None}.
        self.threads = threads

    @property
    def rate(self):
        return self.done / self.seconds if self.seconds else 0.0

    def line(self, what):
        perItem = f"{self.cpu / self.done * 1e6:.0f} us CPU each" if self.done else "-"
        if self.threads is not None and self.done:
            user, system, others = (t / self.done * 1e6 for t in self.threads)
            perItem += (
                f": main thread {user + system:.0f} us (user {user:.0f}, system {system:.0f}),"
                f" other threads {others:.0f} us"
            )
        return (
            f"{self.rate:9.0f} {what}/s  ({self.done} done, {self.failed} failed, "
            f"{self.retransmissions} retransmissions, {self.seconds:.2f} s, {perItem})"
        )


def sipp(work, scenario, remote, count, concurrency, *extra, targetPid=None, threads=False):
    """
    Run SIPp's C{scenario} C{count} times against C{remote}, C{concurrency}
    in flight, and read its statistics file.
    """
    port = freePort()
    stats = work / f"{scenario}-{port}.csv"
    command = [
        "sipp", "-sf", str(work / scenario), "-i", HOST, "-p", str(port), "-t", "u1",
        "-m", str(count), "-l", str(concurrency), "-r", "100000", "-rp", "1000",
        "-nostdin", "-timeout", "120", "-buff_size", "4194304",
        "-max_recv_loops", "10000", "-au", "[field0]", "-ap", "[field1]",
        "-trace_stat", "-stf", str(stats), "-fd", "1",
        *extra, remote,
    ]  # fmt: skip
    before = cpuSeconds(targetPid) if targetPid else 0.0
    threadsBefore = threadSeconds(targetPid) if threads else None
    subprocess.run(
        command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300
    )
    cpu = (cpuSeconds(targetPid) - before) if targetPid else 0.0
    if threads:
        threads = tuple(a - b for a, b in zip(threadSeconds(targetPid), threadsBefore))
    with stats.open() as f:
        last = list(csv.DictReader(f, delimiter=";"))[-1]
    # Each time field is "date<TAB>time<TAB>epoch seconds"; ElapsedTime is
    # whole seconds only.
    seconds = float(last["CurrentTime"].split()[-1]) - float(last["StartTime"].split()[-1])
    done = int(last["SuccessfulCall(C)"])
    return Result(
        done, int(last["FailedCall(C)"]), int(last["Retransmissions(C)"]), seconds, cpu,
        threads or None,
    )


def writeUsers(work, users, contact):
    """
    The SIPp injection file: user; password; contact host:port.
    """
    path = work / f"users-{users[0]}.csv"
    path.write_text("SEQUENTIAL\n" + "".join(f"{u};{PASSWORD};{contact}\n" for u in users))
    return path


def measure(work, remote, pid, args, uasPort=None, registerCallee=False, callers=(CALLER,),
            members=(CALLEE,), threads=False):
    """
    REGISTER load, then call load (with a SIPp UAS on C{uasPort} when the
    target forwards calls), against one target.

    @param threads: whether to split the target's CPU by thread.
    """
    # Nobody calls the contacts the REGISTER load binds.
    users = writeUsers(work, USERS, f"{HOST}:9")
    registers = sipp(
        work, "register.xml", remote, args.registers, args.concurrency,
        "-inf", str(users), targetPid=pid, threads=threads,
    )  # fmt: skip
    uas = None
    if uasPort is not None:
        uas = subprocess.Popen(
            ["sipp", "-sf", str(work / "uas.xml"), "-i", HOST, "-p", str(uasPort), "-t", "u1",
             "-nostdin", "-buff_size", "4194304", "-max_recv_loops", "10000"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
    try:
        if registerCallee:
            callee = writeUsers(work, list(members), f"{HOST}:{uasPort}")
            sipp(work, "register.xml", remote, len(members), 1, "-inf", str(callee))
        caller = writeUsers(work, list(callers), HOST)
        calls = sipp(
            work, "uac.xml", remote, args.calls, args.callConcurrency,
            "-inf", str(caller), "-s", CALLEE, "-auth_uri", f"{CALLEE}@{remote}", targetPid=pid,
            threads=threads,
        )  # fmt: skip
    finally:
        if uas is not None:
            stop(uas)
    return registers, calls


def responder(work, args, *options):
    port = freePort()
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "sip_responder.py"), str(port), HOST, *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        waitForUDP(port, process)
        return measure(work, f"{HOST}:{port}", process.pid, args)
    finally:
        stop(process)


def digestFloor(work, args):
    return responder(work, args, "--digest", PASSWORD)


def kamailio(work, args):
    binary = shutil.which("kamailio")
    if binary is None:
        print("kamailio: not installed (apt-get install -y kamailio)")
        return None
    port, uasPort = freePort(), freePort()
    config = work / "kamailio.cfg"
    config.write_text(
        KAMAILIO.format(
            host=HOST, port=port, uas=uasPort, password=PASSWORD, children=args.kamailioChildren
        )
    )
    process = subprocess.Popen(
        [binary, "-DD", "-E", "-x", "tlsf", "-m", "512", "-M", "16", "-Y", str(work),
         "-f", str(config)],
        stdout=subprocess.DEVNULL, stderr=(work / "kamailio.log").open("w"),
    )  # fmt: skip
    try:
        waitForUDP(port, process)
        time.sleep(0.5)
        return measure(work, f"{HOST}:{port}", process.pid, args, uasPort=uasPort)
    finally:
        stop(process)


def osoConfiguration(port, concurrency):
    """
    The oso.toml of the oso target: the extensions the load registers, the
    callers and the callee's hunt group members as SIP lines, SIP on UDP
    C{port}.
    """
    callers, members = osoCallers(concurrency), osoMembers(concurrency)
    devices = "".join(
        f'[[devices]]\nnumber = "{n}"\nname = "Bench {n}"\nport = "sip-lines"\n'
        f'password = "{PASSWORD}"\n\n'
        for n in [*callers, *members, *USERS]
    )
    members = ", ".join(f'"{n}"' for n in members)
    return (
        '[server]\nrealm = "oso"\ncomponents = ["sip", "sip-lines"]\n\n'
        f'{devices}[[groups]]\nnumber = "{CALLEE}"\nmembers = [{members}]\nhunt = "circular"\n\n'
        f'[components.sip]\nlisten = ["udp:{port}:interface={HOST}"]\n'
    )


def oso(work, args):
    if not (CHECKOUT / "oso" / "plugins" / "sip.py").exists():
        print("oso: not available yet (no oso/plugins/sip.py)")
        return None
    port, uasPort = freePort(), freePort()
    data = work / "oso-data"
    (work / "oso.toml").write_text(osoConfiguration(port, args.callConcurrency))
    log = work / "oso.log"
    environment = dict(os.environ, PYTHONPATH=str(CHECKOUT))
    twistd = Path(sys.executable).with_name("twistd")
    command = (
        [str(twistd)]
        if twistd.exists()
        else [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
    )
    if args.profile:
        # cProfile over the whole run, written when oso stops.
        command += [f"--profile={args.profile}", "--profiler=cprofile", "--savestats"]
    process = subprocess.Popen(
        [*command, "-n", "oso", "--config", str(work / "oso.toml"), "--data-dir", str(data)],
        cwd=work, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while "oso ready" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                print(f"oso: did not start; see the log:\n{log.read_text()[-2000:]}")
                return None
            time.sleep(0.2)
        return measure(
            work, f"{HOST}:{port}", process.pid, args, uasPort=uasPort, registerCallee=True,
            callers=osoCallers(args.callConcurrency), members=osoMembers(args.callConcurrency),
            threads=True,
        )
    finally:
        stop(process)


def ratio(a, b):
    return f"{a.rate / b.rate:.2f}" if a and b and b.rate else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registers", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=100, help="REGISTERs in flight")
    parser.add_argument(
        "--call-concurrency", dest="callConcurrency", type=int, default=50, help="calls in flight"
    )
    parser.add_argument("--kamailio-children", dest="kamailioChildren", type=int, default=1)
    parser.add_argument(
        "--targets", nargs="+", default=["responder", "digest-floor", "kamailio", "oso"],
        choices=["responder", "digest-floor", "kamailio", "oso"],
    )  # fmt: skip
    parser.add_argument(
        "--profile", metavar="FILE", help="run oso under cProfile and save its statistics to FILE"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (logs, statistics) and name it"
    )
    args = parser.parse_args()
    if shutil.which("sipp") is None:
        sys.exit("sipp is not installed (Debian package sip-tester)")
    # The Python targets run on this interpreter; how it was built (PGO,
    # LTO, libpython shared or not) moves their figures by a fifth
    # (doc/sip.md "Ninth pass").
    print(f"interpreter: {sys.executable} (Python {platform.python_version()})")
    work = Path(tempfile.mkdtemp(prefix="oso-sip-load-"))
    try:
        for name, text in (("register.xml", REGISTER), ("uac.xml", UAC), ("uas.xml", UAS)):
            (work / name).write_text(text)
        runners = {
            "responder": responder, "digest-floor": digestFloor, "kamailio": kamailio, "oso": oso,
        }  # fmt: skip
        results = {}
        for name in args.targets:
            measured = runners[name](work, args)
            if measured is None:
                continue
            results[name] = measured
            registers, calls = measured
            print(f"{name}:")
            print("  " + registers.line("REGISTER"))
            print("  " + calls.line("calls"))
        print("ratios (REGISTER/s, calls/s):")
        for name in (n for n in results if n != "responder"):
            for anchor in ("responder", "digest-floor", "kamailio"):
                if anchor != name and anchor in results:
                    (r, c), (ar, ac) = results[name], results[anchor]
                    print(f"  {name} / {anchor}: {ratio(r, ar)}, {ratio(c, ac)}")
        if "oso" in results:
            registers, calls = results["oso"]
            half = "responder" in results and registers.rate >= results["responder"][0].rate / 2
            print(
                f"targets: REGISTER >= half the responder's: {'met' if half else 'not met'}; "
                f"calls >= {CALL_TARGET}/s with none failed: "
                f"{'met' if calls.rate >= CALL_TARGET and not calls.failed else 'not met'}"
            )
    finally:
        if args.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
