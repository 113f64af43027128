"""
What every oso component provides.

A component is a plugin: a module in any ``oso/plugins/`` directory on
``sys.path`` holds an object that provides L{IComponent}.  The server picks
components by the names its configuration asks for.
"""

from zope.interface import Attribute, Interface


class IComponent(Interface):
    """
    A named, configurable part of the server: a protocol, a port type, a CDR
    format or a custom CTI feature.
    """

    name = Attribute(
        "The unique name the configuration uses to select this component "
        "(C{str}, for example C{'virtual-phones'})."
    )
    kind = Attribute(
        "What the component is: C{'port'}, C{'protocol'}, C{'cdr-format'}, "
        "C{'feature'} or C{'service'} (C{str})."
    )
    description = Attribute("One line saying what the component does (C{str}).")

    def validateConfig(section, where):
        """
        Check this component's configuration section and turn it into
        settings.

        @param section: the component's table from the configuration file,
            C{{}} when the file has none.
        @type section: L{dict}
        @param where: the prefix to name keys in errors, for example
            C{'oso.toml: components.sip'}.
        @type where: L{str}
        @return: the component's settings, in whatever shape it likes.
        @raise oso.config.ConfigError: naming the file and key at fault.
        """

    def makeService(settings, context):
        """
        Build the component's service.

        @param settings: what L{validateConfig} returned.
        @param context: the running server's shared parts.
        @type context: L{IServerContext}
        @return: an L{twisted.application.service.IService}.
        """


class IServerContext(Interface):
    """
    The shared parts of a running server that components are built with.
    """

    reactor = Attribute("The reactor: L{IReactorTime}, L{IReactorCore} and friends.")
    callModel = Attribute("The call model, providing L{oso.interfaces.ICallModel}.")
    store = Attribute("The persistent store, providing L{oso.interfaces.IStore}.")
    dataDirectory = Attribute(
        "The data directory (L{twisted.python.filepath.FilePath}); a component "
        "keeps its files (certificates, journals) under it."
    )
    config = Attribute("The whole validated configuration (L{oso.config.Settings}).")

    def component(name):
        """
        Find another running component's service by its component name.

        @param name: a component name.
        @type name: L{str}
        @return: that component's service, or L{None} when it is not running.
        """
