"""Failures are pstkit.Error exceptions that carry pstkit's message (the
structure and offset for damaged input), never crashes; argument mistakes
are Python's usual TypeError/ValueError/KeyError."""

from __future__ import annotations

import os

import pytest

import pstkit


def test_error_is_an_exception_class():
    assert issubclass(pstkit.Error, Exception)


def test_missing_file(tmp_path):
    with pytest.raises(pstkit.Error) as e:
        pstkit.open(str(tmp_path / "absent.pst"))
    assert "absent.pst" in str(e.value) or "No such file" in str(e.value)


def test_not_a_pst(tmp_path):
    path = tmp_path / "mail.pst"
    path.write_bytes(b"From ann@example.com Mon Mar  4 10:00:00 2024\nSubject: hi\n\nhello\n" * 100)
    with pytest.raises(pstkit.Error) as e:
        pstkit.open(str(path))
    # pstkit's message: the structure and where.
    assert "header" in str(e.value) and "offset" in str(e.value)
    with pytest.raises(pstkit.Error):
        pstkit.open_writer(str(path))


def test_truncated_file(sample_pst, tmp_path):
    path = str(tmp_path / "short.pst")
    with open(sample_pst, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(40))
    with pytest.raises(pstkit.Error):
        pstkit.open(path)


def test_cut_file_reads_or_raises(sample_pst, tmp_path):
    """A file cut in half: every read either works or raises pstkit.Error."""
    path = str(tmp_path / "half.pst")
    with open(sample_pst, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(os.path.getsize(sample_pst) // 2))
    errors = 0
    try:
        store = pstkit.open(path)
    except pstkit.Error:
        return
    stack = [store.root()]
    while stack:
        folder = stack.pop()
        try:
            stack.extend(folder.folders())
            for nid in folder.item_nids():
                try:
                    item = store.message(nid)
                    item.properties()
                    for a in item.attachments():
                        a.data()
                except pstkit.Error as e:
                    assert str(e)
                    errors += 1
        except pstkit.Error as e:
            assert str(e)
            errors += 1
    assert errors > 0, "half of the file is gone: something must fail"


def test_unknown_nids(sample_pst):
    store = pstkit.open(sample_pst)
    with pytest.raises(pstkit.Error) as e:
        store.message(0x7FFFFFE4)
    assert str(e.value)
    with pytest.raises(pstkit.Error):
        store.folder(0x7FFFFFE2)
    with pytest.raises(pstkit.Error):
        store.folder("No such folder/anywhere")


def test_bad_property_keys(sample_pst):
    item = next(pstkit.open(sample_pst).folder("Top of Outlook data file/Inbox").items())
    with pytest.raises(TypeError):
        item.property(1.5)
    with pytest.raises(ValueError):
        item.property(-1)


def test_objects_outlive_their_store(sample_pst):
    """Folders and items keep the file open: no dangling store."""
    folder = pstkit.open(sample_pst).folder("Top of Outlook data file/Inbox")
    items = list(folder.items())
    import gc
    gc.collect()
    assert all(i.subject for i in items) and folder.name == "Inbox"


def test_create_over_a_directory_fails(tmp_path):
    with pytest.raises(pstkit.Error):
        pstkit.create(str(tmp_path))


def test_create_never_replaces_a_file(sample_pst):
    size = os.path.getsize(sample_pst)
    with pytest.raises(pstkit.Error) as e:
        pstkit.create(sample_pst)
    assert "exists" in str(e.value)
    assert os.path.getsize(sample_pst) == size
