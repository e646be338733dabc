"""The key layout: injective, reversible, readable, within S3's limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langgraph_checkpoint_s3._keys import (
    MAX_KEY_BYTES,
    ODD_MARK,
    SUFFIX,
    CheckpointRef,
    Layout,
    WriteRef,
    decode_checkpoint_id,
    decode_component,
    encode_checkpoint_id,
    encode_component,
)
from langgraph_checkpoint_s3._recency import ceiling, floor_of

# Every code point, surrogates included: ids are arbitrary Python strings.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
layout = Layout("p/")


@given(any_text)
def test_component_round_trips(value: str) -> None:
    encoded = encode_component(value)
    assert decode_component(encoded) == value
    assert encoded and "/" not in encoded and "\\" not in encoded
    assert encoded not in (".", "..")
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in encoded)


@given(any_text, any_text)
def test_component_is_injective(a: str, b: str) -> None:
    if a != b:
        assert encode_component(a) != encode_component(b)


@given(
    st.text(
        st.characters(
            blacklist_characters="%/\\",
            codec="utf-8",
            min_codepoint=0x20,
            max_codepoint=0x7E,
        ),
        min_size=1,
    )
)
def test_plain_ids_are_unchanged(value: str) -> None:
    if value not in (".", "..", "__default__"):
        assert encode_component(value) == value


refs = st.builds(CheckpointRef, any_text, any_text, any_text)
writes = st.builds(WriteRef, refs, any_text, st.integers(-4, 10_000))


@given(refs, refs)
def test_checkpoint_keys_are_injective_and_parse_back(
    a: CheckpointRef, b: CheckpointRef
) -> None:
    key_a = layout.checkpoint_key(a)
    assert layout.parse_checkpoint_key(key_a) == a
    assert layout.parse_write_key(key_a) is None
    assert (key_a == layout.checkpoint_key(b)) == (a == b)


@given(writes, writes)
def test_write_keys_are_injective_and_parse_back(a: WriteRef, b: WriteRef) -> None:
    key_a = layout.write_key(a)
    assert layout.parse_write_key(key_a) == a
    assert layout.parse_checkpoint_key(key_a) is None
    assert (key_a == layout.write_key(b)) == (a == b)
    assert key_a.startswith(layout.checkpoint_writes_prefix(a.checkpoint))


@given(refs)
def test_prefixes_contain_their_keys_only(ref: CheckpointRef) -> None:
    key = layout.checkpoint_key(ref)
    assert key.startswith(
        layout.namespace_checkpoints_prefix(ref.thread_id, ref.checkpoint_ns)
    )
    assert key.startswith(layout.thread_checkpoints_prefix(ref.thread_id))
    assert layout.parse_thread(key) == ref.thread_id
    other = ref.thread_id + "-b"
    assert not key.startswith(layout.thread_checkpoints_prefix(other))


def test_seed_layout_for_plain_ids() -> None:
    ref = CheckpointRef("thread-1", "", "1ef4f797-8335-6428-8001-8a1503f9b875")
    assert layout.checkpoint_key(ref) == (
        "p/checkpoints/thread-1/__default__/1ef4f797-8335-6428-8001-8a1503f9b875.json"
    )
    sub = CheckpointRef("user@example.com", "parent:1|child:2", "c1")
    write = WriteRef(sub, "task-9", 0)
    assert layout.write_key(write) == (
        "p/writes/user@example.com/parent:1|child:2/c1/task-9_0.json"
    )
    assert layout.write_key(WriteRef(sub, "t", -3)).endswith("/c1/t_-3.json")


def test_default_namespace_and_literal_default_stay_apart() -> None:
    empty = layout.namespace_checkpoints_prefix("t", "")
    literal = layout.namespace_checkpoints_prefix("t", "__default__")
    assert empty == "p/checkpoints/t/__default__/"
    assert literal != empty
    assert decode_component(literal.split("/")[-2]) == "__default__"


def test_hostile_ids_stay_inside_their_thread() -> None:
    key = layout.checkpoint_key(CheckpointRef("../other", "..", "a/../../b"))
    assert key == "p/checkpoints/..%2Fother/%2E%2E/\x7fa%2F..%2F..%2Fb.json"
    assert layout.parse_checkpoint_key(key) == CheckpointRef(
        "../other", "..", "a/../../b"
    )


def test_over_long_key_is_refused_naming_the_id() -> None:
    with pytest.raises(ValueError, match=r"'xxxx.*1024"):
        layout.checkpoint_key(CheckpointRef("x" * MAX_KEY_BYTES, "", "c"))


@pytest.mark.parametrize(
    "segment", ["", "a/b", "%2", "%41", "%zz", "%2e", ".", "..", "a\x01", "a\\b"]
)
def test_non_canonical_segments_are_rejected(segment: str) -> None:
    with pytest.raises(ValueError):
        decode_component(segment)


def test_foreign_keys_do_not_parse() -> None:
    assert layout.parse_checkpoint_key("p/checkpoints/t/ns/c.txt") is None
    assert layout.parse_checkpoint_key("p/checkpoints/t/c.json") is None
    assert layout.parse_write_key("p/writes/t/ns/c/task.json") is None
    assert layout.parse_write_key("p/writes/t/ns/c/task_01.json") is None
    assert layout.parse_checkpoint_key("other/checkpoints/t/ns/c.json") is None


# -- checkpoint ids: escaped ones under a mark, so that floors are exact ---------


@given(any_text)
def test_checkpoint_id_round_trips_and_is_marked_only_when_escaped(value: str) -> None:
    segment = encode_checkpoint_id(value)
    assert decode_checkpoint_id(segment) == value
    plain = encode_component(value) == value
    assert segment == (value if plain else ODD_MARK + encode_component(value))
    assert "/" not in segment and segment not in ("", ".", "..")


@given(any_text, any_text)
def test_checkpoint_id_is_injective(a: str, b: str) -> None:
    if a != b:
        assert encode_checkpoint_id(a) != encode_checkpoint_id(b)


@pytest.mark.parametrize(
    "segment",
    ["%5Cx", "__default__", "%2E", "a\x7f", "\x7fabc", "\x7f%5cx", "\x7f", "a%41"],
)
def test_unmarked_or_non_canonical_checkpoint_segments_are_rejected(
    segment: str,
) -> None:
    with pytest.raises(ValueError):
        decode_checkpoint_id(segment)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


# Ids near a floor: the floor's own beginning, then anything, mostly the
# characters that escape or sort next to uuid6 ids.
near = st.text(
    st.sampled_from(["\\", "/", "%", "\x01", "\x7f", "~", "0", "f", "-", ".", "é"])
    | st.characters(codec=None, exclude_categories=()),
    max_size=6,
)
ascii_plain = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="%/\\"),
    min_size=1,
    max_size=12,
)


@settings(max_examples=500)
@given(ascii_plain, st.data())
def test_a_key_a_listing_from_a_floor_skips_is_a_smaller_id(
    floor: str, data: st.DataObject
) -> None:
    """What every floor of .recency rests on: StartAfter=floor skips only keys
    of ids below the floor, whatever the ids (S3 compares UTF-8 bytes)."""
    start = floor_of(floor)
    if start is None:
        return
    cut = data.draw(st.integers(0, len(start)))
    other = start[:cut] + data.draw(near)
    key_text = encode_checkpoint_id(other) + SUFFIX
    if _utf8(key_text) <= _utf8(start):
        assert other < start


@settings(max_examples=500)
@given(ascii_plain, st.data())
def test_no_plain_id_below_a_bound_sorts_past_its_ceiling(
    below: str, data: st.DataObject
) -> None:
    if floor_of(below) is None:
        return
    cut = data.draw(st.integers(0, len(below)))
    other = below[:cut] + data.draw(near)
    segment = encode_checkpoint_id(other)
    if other < below and not segment.startswith(ODD_MARK):
        assert _utf8(segment + SUFFIX) <= _utf8(ceiling(below))
