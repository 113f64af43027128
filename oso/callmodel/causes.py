"""
The ECMA-269 event causes (values as ECMA-285 encodes them).

An event's cause says why its change happened: the same names reach CSTA
clients in BER or XML, the HTTP event stream and the CDR recorder.
"""

from enum import IntEnum


class EventCause(IntEnum):
    """
    ECMA-269 C{EventCause}; member names are the standard's.
    """

    activeParticipation = 1
    alternate = 2
    busy = 3
    callBack = 4
    callCancelled = 5
    callForwardImmediate = 6
    callForwardBusy = 7
    callForwardNoAnswer = 8
    callForward = 9
    callNotAnswered = 10
    callPickup = 11
    campOn = 12
    destNotObtainable = 13
    doNotDisturb = 14
    incompatibleDestination = 15
    invalidAccountCode = 16
    keyOperation = 17
    lockout = 18
    maintenance = 19
    networkCongestion = 20
    networkNotObtainable = 21
    newCall = 22
    noAvailableAgents = 23
    override = 24
    park = 25
    overflow = 26
    recall = 27
    redirected = 28
    reorderTone = 29
    resourcesNotAvailable = 30
    silentParticipation = 31
    transfer = 32
    trunksBusy = 33
    blocked = 35
    characterCountReached = 36
    consultation = 37
    distributed = 38
    dTMFDigitDetected = 39
    durationExceeded = 40
    endOfMessageDetected = 41
    enteringDistribution = 42
    forcedPause = 43
    makeCall = 44
    messageSizeExceeded = 45
    networkSignal = 46
    nextMessage = 47
    normalClearing = 48
    noSpeechDetected = 49
    numberChanged = 50
    singleStepConference = 51
    singleStepTransfer = 52
    speechDetected = 53
    switchingFunctionTerminated = 54
    terminationCharacterReceived = 55
    timeout = 56
    aCDBusy = 57
    aCDForward = 58
    aCDSaturated = 59
    alertTimeExpired = 60
    autoWork = 61
    campOnTrunks = 62
    conference = 63
    destDetected = 64
    destOutOfOrder = 65
    distributionDelay = 66
    forcedTransition = 67
    intrude = 68
    invalidNumberFormat = 69
    joinCall = 70
    keyOperationInUse = 71
    makePredictiveCall = 72
    messageDurationExceeded = 73
    multipleAlerting = 74
    multipleQueuing = 75
    networkDialling = 76
    networkOutOfOrder = 77
    normal = 78
    notAvaliableBearerService = 79
    notSupportedBearerService = 80
    numberUnallocated = 81
    queueCleared = 82
    remainsInQueue = 83
    reserved = 84
    selectedTrunkBusy = 85
    suspend = 86
    unauthorisedBearerService = 87
    activation = 88
    babble = 89
    badAttribute = 90
    badGrammar = 91
    badVoice = 92
    badUri = 93
    busyOverflow = 94
    calendarOverflow = 95
    capacityOverflow = 96
    duplicateDTMF = 97
    earlyStop = 98
    emptyQueue = 99
    interDigitTimeout = 100
    invalidConnection = 101
    invalidConnectionState = 102
    makeConnection = 103
    maxTimeout = 104
    noAudioSaved = 105
    noQueue = 106
    noRule = 107
    outOfGrammar = 108
    pathReplacement = 109
    queueTimeOverflow = 110
    recallBusy = 111
    recallForwarded = 112
    recallNoAnswer = 113
    recallResourcesNotAvailable = 114
    unknownOverflow = 115
    callInterception = 116
    callInterceptionBusy = 117
    callInterceptionForwarded = 118
    callInterceptionNoAnswer = 119
    callInterceptionResourcesNotAvailable = 120
    lawfulInterception = 121
