from pathlib import Path

from shared_constructs.policy.docs import rules_markdown


def test_readme_rules_table_is_generated_from_the_pack():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert rules_markdown() in readme
