"""
The TOML configuration: reading, validating, and errors that name the file
and the key.
"""


class ConfigError(Exception):
    """
    A configuration that cannot be used.

    @ivar where: the file and key at fault, for example
        C{"oso.toml: components.sip.listen[1]"}.
    @ivar message: what is wrong with it.
    """

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
