from entrypoint.docs import README, with_table


def test_readme_settings_table_matches_the_schema():
    text = README.read_text(encoding="utf-8")
    assert text == with_table(text), "README.md's settings table is stale: run `make docs`"
