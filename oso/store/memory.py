"""
A store that keeps everything in memory: for tests and for trying oso out
without a disk.  It passes the same contract tests as the SQLite store.
"""

from dataclasses import replace

from twisted.internet.defer import succeed
from zope.interface import implementer

from oso.interfaces import IStore


@implementer(IStore)
class MemoryStore:
    """
    An L{IStore} in a dictionary; every Deferred it returns has fired.
    """

    def __init__(self):
        self._devices = {}
        self._settings = {}
        # (aor, contact) -> Binding, in the order first stored
        self._registrations = {}
        self._administrators = {}
        # token hash -> APIToken, in the order first stored
        self._tokens = {}
        # (trunk group, username) -> SQN
        self._akaSequence = {}
        self.opened = False

    def open(self):
        self.opened = True
        return succeed(None)

    def close(self):
        self.opened = False
        return succeed(None)

    def loadDevices(self):
        return succeed([self._devices[n] for n in sorted(self._devices)])

    def saveDevice(self, device):
        self._devices[device.number] = device
        return succeed(None)

    def deleteDevice(self, number):
        self._devices.pop(number, None)
        return succeed(None)

    def saveFeatures(self, number, features):
        if number in self._devices:
            self._devices[number] = replace(self._devices[number], features=features)
        return succeed(None)

    def getSetting(self, key):
        return succeed(self._settings.get(key))

    def putSetting(self, key, value):
        self._settings[key] = value
        return succeed(None)

    def getAKASequence(self, trunkGroup, username):
        return succeed(self._akaSequence.get((trunkGroup, username)))

    def putAKASequence(self, trunkGroup, username, sqn):
        self._akaSequence[trunkGroup, username] = sqn
        return succeed(None)

    def loadRegistrations(self):
        return succeed(list(self._registrations.values()))

    def saveRegistration(self, binding):
        self._registrations[binding.aor, binding.contact] = binding
        return succeed(None)

    def deleteRegistration(self, aor, contact):
        self._registrations.pop((aor, contact), None)
        return succeed(None)

    def deleteRegistrations(self, aor):
        for key in [key for key in self._registrations if key[0] == aor]:
            del self._registrations[key]
        return succeed(None)

    def replaceRegistrations(self, bindings):
        for aor, current in bindings.items():
            self.deleteRegistrations(aor)
            for binding in current:
                self.saveRegistration(binding)
        return succeed(None)

    def loadAdministrators(self):
        return succeed([self._administrators[n] for n in sorted(self._administrators)])

    def getAdministrator(self, name):
        return succeed(self._administrators.get(name))

    def saveAdministrator(self, administrator):
        self._administrators[administrator.name] = administrator
        return succeed(None)

    def deleteAdministrator(self, name):
        return succeed(self._administrators.pop(name, None) is not None)

    def loadTokens(self):
        return succeed(sorted(self._tokens.values(), key=lambda token: token.created))

    def getToken(self, tokenHash):
        return succeed(self._tokens.get(tokenHash))

    def saveToken(self, token):
        self._tokens[token.tokenHash] = token
        return succeed(None)

    def deleteToken(self, tokenHash):
        return succeed(self._tokens.pop(tokenHash, None) is not None)
