from tools.docs import README, with_generated_tables


def test_readme_tables_match_the_schema_and_the_status_words():
    text = README.read_text(encoding="utf-8")
    assert text == with_generated_tables(text), "README.md's generated tables are stale: run `make docs`"
