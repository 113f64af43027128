"""
Persistence.
"""

from zope.interface import Interface


class IStore(Interface):
    """
    Where devices, feature state and other durable data live.

    Every write returns a L{Deferred} that fires once the change is on disk
    (committed, synchronous).  Work runs off the reactor thread.
    """

    def open():
        """
        Open (creating or migrating) the store.

        @return: a L{Deferred} that fires when it is ready.
        """

    def close():
        """
        Finish pending writes and close.

        @return: a L{Deferred}.
        """

    def loadDevices():
        """
        @return: a L{Deferred} firing with every stored
            L{oso.callmodel.devices.Device}.
        """

    def saveDevice(device):
        """
        Insert or replace a device (its features and credentials included).

        @return: a L{Deferred}.
        """

    def deleteDevice(number):
        """
        @return: a L{Deferred}.
        """

    def saveFeatures(number, features):
        """
        Replace one device's L{oso.callmodel.devices.Features}.

        @return: a L{Deferred}.
        """

    def getSetting(key):
        """
        @return: a L{Deferred} firing with the string stored under C{key}, or
            L{None}.
        """

    def putSetting(key, value):
        """
        @return: a L{Deferred}.
        """

    def getAKASequence(trunkGroup, username):
        """
        @return: a L{Deferred} firing with the highest Digest AKA sequence
            number (an C{int}) the trunk of C{trunkGroup} accepted for the
            private identity C{username}, or L{None}.
        """

    def putAKASequence(trunkGroup, username, sqn):
        """
        Keep the highest AKA sequence number a trunk accepted (replacing
        the one before).

        @return: a L{Deferred} that fires once it is on disk.
        """

    def loadRegistrations():
        """
        @return: a L{Deferred} firing with every stored
            L{oso.sip.registrar.Binding} (expired ones included: the
            registrar drops them).
        """

    def saveRegistration(binding):
        """
        Insert a SIP registration binding, or replace the one with its
        address of record and contact.

        @return: a L{Deferred} that fires once it is on disk.
        """

    def deleteRegistration(aor, contact):
        """
        Remove the binding of C{contact} (its URI text, as saved) to
        C{aor}, if there is one.

        @return: a L{Deferred} that fires once the deletion is on disk.
        """

    def deleteRegistrations(aor):
        """
        Remove every binding of C{aor}.

        @return: a L{Deferred} that fires once the deletion is on disk.
        """

    def replaceRegistrations(bindings):
        """
        Make the stored bindings of each address of record in C{bindings}
        exactly the ones given, all in one transaction (all or nothing):
        the registrar's group commit of many REGISTERs.

        @param bindings: a mapping of address of record to a sequence of
            its L{oso.sip.registrar.Binding}s (empty: none left).
        @return: a L{Deferred} that fires once every change is on disk.
        """

    def loadAdministrators():
        """
        @return: a L{Deferred} firing with every G-Server
            L{oso.gserver.credentials.Administrator}, ordered by name.
        """

    def getAdministrator(name):
        """
        @return: a L{Deferred} firing with the
            L{oso.gserver.credentials.Administrator} of that name, or
            L{None}.
        """

    def saveAdministrator(administrator):
        """
        Insert an administrator, or replace the one with its name.

        @return: a L{Deferred} that fires once it is on disk.
        """

    def deleteAdministrator(name):
        """
        @return: a L{Deferred} that fires, once the deletion is on disk,
            with whether there was an administrator of that name.
        """

    def loadTokens():
        """
        @return: a L{Deferred} firing with every
            L{oso.gserver.credentials.APIToken}, oldest first.
        """

    def getToken(tokenHash):
        """
        @return: a L{Deferred} firing with the
            L{oso.gserver.credentials.APIToken} of that hash, or L{None}.
        """

    def saveToken(token):
        """
        Insert an API token (or replace the one with its hash).

        @return: a L{Deferred} that fires once it is on disk.
        """

    def deleteToken(tokenHash):
        """
        Revoke an API token.

        @return: a L{Deferred} that fires, once the deletion is on disk,
            with whether there was a token of that hash.
        """
