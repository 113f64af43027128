"""
oso's components, one module each.

Every C{oso/plugins/} directory on C{sys.path} (that is not itself this
package) adds its modules here, so a third-party component is a single file
dropped into such a directory; L{oso.components} finds them all.
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))
__all__ = []
