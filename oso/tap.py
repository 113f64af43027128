"""
C{twistd oso}: the command line options and the service they make.

Everything that can be checked before the reactor runs is checked while
parsing the options: the configuration file, the components it names and
each component's section.  A problem there is a L{usage.UsageError} whose
message names the file and the key, and twistd exits before starting.
"""

import atexit
import os
import sys

from twisted.python import usage
from twisted.python.filepath import FilePath

from oso import config
from oso.collector import freezeStartup, tuneCollector
from oso.components import ComponentError, configureComponents
from oso.service import OsoService

#: The data directory when neither the command line nor the file names one.
DEFAULT_DATA_DIRECTORY = "oso-data"


class Options(usage.Options):
    """
    The options of C{twistd oso}.

    After parsing, C{self["settings"]} holds the L{oso.config.Settings} and
    C{self["components"]} the C{(component, componentSettings)} pairs in
    configuration order.
    """

    synopsis = "[--config PATH] [--data-dir PATH]"
    longdesc = (
        "Run oso.  Without --config it runs the embedded default "
        "installation; the data directory (store, certificates, journals) "
        "is --data-dir, else the file's server.data-dir, else ./oso-data."
    )

    optParameters = [
        ["config", "c", None, "The TOML configuration file."],
        ["data-dir", "d", None, "The data directory (created when absent)."],
    ]

    compData = usage.Completions(
        optActions={
            "config": usage.CompleteFiles("*.toml"),
            "data-dir": usage.CompleteDirs(),
        }
    )

    def postOptions(self):
        try:
            if self["config"] is None:
                settings = config.defaults()
            else:
                settings = config.load(self["config"])
            components = configureComponents(settings)
        except (config.ConfigError, ComponentError) as error:
            raise usage.UsageError(str(error)) from error
        self["settings"] = settings
        self["components"] = components

    def dataDirectory(self):
        """
        @return: the data directory these options choose, as an absolute
            L{FilePath}.
        """
        path = (
            self["data-dir"]
            or self["settings"].dataDirectory
            or DEFAULT_DATA_DIRECTORY
        )
        return FilePath(os.path.abspath(path))


def _exitWithStatus(status):
    """
    End the process with C{status} once twistd has finished.

    twistd exits with status 0 whenever the reactor stops by itself, so a
    server that could not start ends the process from an C{atexit} hook.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def makeService(options):
    """
    @param options: parsed L{Options}.
    @return: the L{OsoService}, with the garbage collector tuned for a
        server (L{oso.collector}).
    """
    from twisted.internet import reactor

    def failed():
        atexit.register(_exitWithStatus, 1)
        reactor.callWhenRunning(reactor.stop)

    tuneCollector()
    service = OsoService(
        options["settings"],
        options["components"],
        options.dataDirectory(),
        reactor,
        onStartFailure=failed,
    )

    def started():
        # twistd starts the service before the reactor runs.
        if service.running:
            service.whenStarted().addCallback(freezeStartup)

    reactor.callWhenRunning(started)
    return service
