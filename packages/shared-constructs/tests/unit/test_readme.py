from pathlib import Path

from shared_constructs.policy.docs import rules_markdown


def test_readme_rules_table_is_generated_from_the_pack():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert rules_markdown() in readme


def test_every_decision_a_file_cites_exists_and_is_listed():
    import re

    root = Path(__file__).parents[4]
    decisions = root / "docs" / "decisions"
    cited = {
        match
        for path in [*root.glob("packages/**/*.py"), *root.glob("packages/**/*.md"), *root.glob("*.md")]
        if ".venv" not in path.parts and "cdktf.out" not in path.parts
        for match in re.findall(r"docs/decisions/([0-9]{4}-[a-z0-9-]+\.md)", path.read_text(encoding="utf-8"))
    }
    assert len(cited) >= 5
    assert sorted(c for c in cited if not (decisions / c).is_file()) == []
    index = (decisions / "README.md").read_text(encoding="utf-8")
    records = sorted(p.name for p in decisions.glob("0*.md"))
    assert [r for r in records if f"({r})" not in index] == []


def test_no_file_cites_a_design_document_outside_the_repository():
    import re

    root = Path(__file__).parents[4]
    outside = re.compile(r"(?<![\w-])(DECISIONS|ARCHITECTURE|EMULATOR|STYLE|contracts)\.md\b|seeds/")
    files = [
        path
        for path in [*root.glob("packages/**/*.py"), *root.glob("packages/**/*.md"), *root.glob("*.md")]
        if ".venv" not in path.parts and "cdktf.out" not in path.parts and path != Path(__file__)
    ]
    assert len(files) > 50
    citing = [str(p.relative_to(root)) for p in files if outside.search(p.read_text(encoding="utf-8"))]
    assert citing == []
