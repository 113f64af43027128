"""
The codec's memos of texts read before stay within their size.
"""

from oso.sip.memo import Memo


def test_keepRemembersAndReturnsTheValue():
    memo = Memo(3)
    assert memo.keep("a", 1) == 1
    assert memo.get("a") == 1


def test_fullMemoIsEmptiedForTheNewEntry():
    memo = Memo(2)
    memo.keep("a", 1)
    memo.keep("b", 2)
    memo.keep("c", 3)
    assert dict(memo) == {"c": 3}
