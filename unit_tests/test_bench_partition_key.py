"""bench/partition_key.py's own judgement: which cases it looks up, when two answers count as the
same, which rows an exact search returns, and a Lite file's size. Nothing here talks to Milvus."""

from __future__ import annotations

from bench.partition_key import compare_answers, duplicates_found, folder_bytes, lookup_cases, nearest_ids


def test_cases_mix_the_three_kinds_and_articles_get_the_template_organizations_in_turn():
    queries = {"duplicates": [{"text": f"d{n}", "organization_id": 7, "acceptable_ticket_ids": [n]} for n in range(3)],
               "articles": [{"text": f"a{n}"} for n in range(3)],
               "novel": [{"text": "n0", "organization_id": 9}]}
    cases = lookup_cases(queries, 6, [100, 200])
    assert [c["kind"] for c in cases] == ["duplicate", "article", "novel", "duplicate", "article", "duplicate"]
    assert [c["org"] for c in cases] == [7, 100, 9, 7, 200, 7]
    assert [c["text"] for c in cases] == ["d0", "a0", "n0", "d1", "a1", "d2"]
    assert [c["expected"] for c in cases] == [[0], None, None, [1], None, [2]]


def test_a_duplicate_is_found_when_its_answer_lists_one_of_the_tickets_it_duplicates():
    cases = [{"expected": [1, 2]}, {"expected": [3]}, {"expected": None}]
    answers = [([9, 2], []), ([4], [3]), ([1], [])]
    assert duplicates_found(cases, answers) == 1


def test_cases_stop_when_every_pool_is_used():
    assert len(lookup_cases({"duplicates": [{"text": "d", "organization_id": 1}]}, 5, [1])) == 1


def test_answers_are_the_same_only_with_the_same_ids_in_the_same_order():
    a = [([1, 2], [10]), ([3], [11, 12]), ([4], [13])]
    b = [([1, 2], [10]), ([3], [12, 11]), ([5], [13])]
    assert compare_answers(a, b) == {"cases": 3, "same": 1, "reordered": 1, "differing": [1, 2]}


def test_the_exact_nearest_rows_are_found_by_distance():
    ids = ["a", "b", "c"]
    vectors = [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]
    assert nearest_ids(ids, vectors, [1.0, 0.1], 2) == {"a", "c"}
    assert nearest_ids([], [], [1.0, 0.0], 2) == set()


def test_a_lite_database_is_measured_as_the_files_of_its_folder(tmp_path):
    (tmp_path / "db" / "seg").mkdir(parents=True)
    (tmp_path / "db" / "a").write_bytes(b"x" * 3)
    (tmp_path / "db" / "seg" / "b").write_bytes(b"y" * 5)
    assert folder_bytes(tmp_path / "db") == 8
    assert folder_bytes(tmp_path / "db" / "a") == 3
