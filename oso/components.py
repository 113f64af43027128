"""
Finding the components the configuration asks for.

A component is an object providing L{IComponent} in a module of the
L{oso.plugins} package, whose modules come from every C{oso/plugins/}
directory on C{sys.path}.  C{twisted.plugin} finds them, but it only logs a
module that fails to import and goes on without it; here every module is
imported first so that such a failure is reported by name, and a configured
component that is missing, duplicated or does not conform is an error in
plain words.
"""

from dataclasses import dataclass

from twisted.plugin import IPlugin, getPlugins, pluginPackagePaths
from twisted.python.modules import getModule
from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyObject

from oso.interfaces import IComponent


class ComponentError(Exception):
    """
    The configured components cannot be loaded: one is missing, two share a
    name, or one does not provide L{IComponent}.
    """


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """
    A plugin module that could not be imported.

    @ivar module: the module's full name, for example C{"oso.plugins.sip"}.
    @ivar error: the exception its import raised.
    """

    module: str
    error: BaseException

    def __str__(self):
        return f"{self.module}: {type(self.error).__name__}: {self.error}"


@dataclass(frozen=True, slots=True)
class Found:
    """
    Everything the plugin package offers.

    @ivar components: C{(origin, component)} pairs, where C{origin} names
        the module attribute that holds the component.
    @ivar importFailures: the L{ImportFailure}s met on the way.
    @ivar notPlugins: C{(origin, component)} pairs of objects that provide
        L{IComponent} but not L{IPlugin}, which C{twisted.plugin} skips.
    """

    components: tuple
    importFailures: tuple
    notPlugins: tuple = ()

    def names(self):
        """
        @return: the sorted names of the components found.
        """
        return sorted({str(getattr(c, "name", "?")) for _, c in self.components})


def findComponents(package=None):
    """
    Import every module of the plugin package and collect the components
    they hold.

    Directories added to C{sys.path} after the package was first imported
    count too: the package's C{__path__} is brought up to date first.

    @param package: the plugin package; L{oso.plugins} when L{None}.
    @return: a L{Found}.
    """
    if package is None:
        import oso.plugins as package
    for path in pluginPackagePaths(package.__name__):
        if path not in package.__path__:
            package.__path__.append(path)

    modules = []
    failures = []
    for pluginModule in getModule(package.__name__).iterModules():
        try:
            modules.append(pluginModule.load())
        except Exception as error:
            failures.append(ImportFailure(pluginModule.name, error))

    origins = {}
    notPlugins = []
    for module in modules:
        for attribute, value in vars(module).items():
            if IComponent.providedBy(value) and id(value) not in origins:
                origins[id(value)] = f"{module.__name__}.{attribute}"
                if not IPlugin.providedBy(value):
                    notPlugins.append((origins[id(value)], value))

    components = []
    seen = set()
    for component in getPlugins(IComponent, package):
        if id(component) not in seen:
            seen.add(id(component))
            components.append((origins.get(id(component), "?"), component))
    return Found(tuple(components), tuple(failures), tuple(notPlugins))


def selectComponents(names, found):
    """
    Pick the configured components, in the configured order, and check each
    against L{IComponent}.

    @param names: the configured component names.
    @param found: what L{findComponents} returned.
    @return: the components, one per name.
    @raise ComponentError: when a name is not found, is provided twice, or
        names a component that does not provide L{IComponent}.
    """
    byName = {}
    for origin, component in found.components:
        byName.setdefault(getattr(component, "name", None), []).append(
            (origin, component)
        )

    selected = []
    for name in names:
        candidates = byName.get(name, [])
        for origin, component in found.notPlugins:
            if not candidates and getattr(component, "name", None) == name:
                raise ComponentError(
                    f"component {name!r} ({origin}) provides IComponent but not "
                    f"twisted.plugin.IPlugin, so it cannot be found; declare "
                    f"both: @implementer(IPlugin, IComponent)"
                )
        if not candidates:
            message = (
                f"configured component {name!r} was not found; "
                f"available: {', '.join(found.names()) or 'none'}"
            )
            if found.importFailures:
                message += "; plugin modules that failed to import: " + "; ".join(
                    str(failure) for failure in found.importFailures
                )
            raise ComponentError(message)
        if len(candidates) > 1:
            raise ComponentError(
                f"component name {name!r} is provided more than once: "
                + ", ".join(origin for origin, _ in candidates)
            )
        origin, component = candidates[0]
        try:
            verifyObject(IComponent, component)
        except Invalid as error:
            raise ComponentError(
                f"component {name!r} ({origin}) does not provide IComponent: "
                f"{error}"
            ) from error
        selected.append(component)
    return selected


def loadComponents(names, package=None):
    """
    Find and select the configured components.

    @param names: the configured component names, in order.
    @param package: the plugin package; L{oso.plugins} when L{None}.
    @return: the components, one per name, in that order.
    @raise ComponentError: see L{selectComponents}.
    """
    return selectComponents(names, findComponents(package))


def configureComponents(settings, package=None):
    """
    Load the components a configuration names and check each one's section
    of it.

    @param settings: the L{oso.config.Settings}.
    @param package: the plugin package; L{oso.plugins} when L{None}.
    @return: C{(component, componentSettings)} pairs in configuration order,
        C{componentSettings} being what the component's C{validateConfig}
        made of its C{[components.NAME]} table.
    @raise ComponentError: see L{selectComponents}.
    @raise oso.config.ConfigError: when a section is wrong.
    """
    return [
        (
            component,
            component.validateConfig(
                settings.componentSections.get(component.name, {}),
                f"{settings.source}: components.{component.name}",
            ),
        )
        for component in loadComponents(settings.components, package)
    ]
