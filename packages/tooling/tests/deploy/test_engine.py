"""The deployment engine on two small packages of Terraform's built-in ``terraform_data``: a
producer publishing an output and a consumer reading it through local remote state. Real
Terraform runs (no provider to install, no cloud), so order, refusal, apply and the plan after
it are the engine's own behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.deploy.engine import Declined, Refused, Run, StackId
from platform_tooling.deploy.reads import Read, reads
from platform_tooling.deploy.workspace import Workspace


def _workspace(root: Path, package: str, stacks: dict[str, dict[str, Any]], deps: dict[str, list[str]]) -> Workspace:
    folder = root / package / "cdktf.out"
    for name, document in stacks.items():
        (folder / "stacks" / name).mkdir(parents=True)
        (folder / "stacks" / name / "cdk.tf.json").write_text(json.dumps(document))
    manifest = {"stacks": {name: {"dependencies": deps.get(name, [])} for name in stacks}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return Workspace(package, root / package, folder, stacks, deps)


def _state(root: Path, package: str, stack: str) -> str:
    return str(root / ".state" / package / "dev" / f"{stack}.tfstate")


def producer(root: Path, value: str = "v1", generation: int = 1) -> Workspace:
    def stack(name: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "terraform": {"backend": {"local": {"path": _state(root, "producer", name)}}},
            "resource": {"terraform_data": {"record": {"input": value, "triggers_replace": [generation], **extra}}},
            "output": {"topic_arn": {"value": "${terraform_data.record.output}"}},
        }

    stacks = {"producer-base": stack("producer-base", {}), "producer-top": stack("producer-top", {})}
    return _workspace(root, "producer", stacks, {"producer-top": ["producer-base"]})


def consumer(root: Path) -> Workspace:
    document = {
        "terraform": {"backend": {"local": {"path": _state(root, "consumer", "consumer")}}},
        "data": {
            "terraform_remote_state": {
                "base": {"backend": "local", "config": {"path": _state(root, "producer", "producer-top")}}
            }
        },
        "resource": {"terraform_data": {"uses": {"input": "${data.terraform_remote_state.base.outputs.topic_arn}"}}},
        "output": {"used": {"value": "${terraform_data.uses.output}"}},
    }
    return _workspace(root, "consumer", {"consumer": document}, {})


def yes(plan: Any) -> bool:
    return True


def test_reads_name_the_producer_the_stack_and_the_output(tmp_path):
    found = reads(consumer(tmp_path).stacks["consumer"])
    assert found == [Read("producer", "producer-top", "topic_arn", "base")]


def test_fails_a_consumer_deployed_before_its_producer_is_refused_before_anything_runs(tmp_path):
    alone = Run([consumer(tmp_path)])
    with pytest.raises(Refused) as refused:
        alone.deploy(yes)
    assert refused.value.problems == [
        "consumer/consumer reads output 'topic_arn' of producer stack 'producer-top', which has not published it "
        "(it has no state yet (producer-top.tfstate)): deploy producer first"
    ]
    assert not (tmp_path / "consumer" / "cdktf.out" / "stacks" / "consumer" / ".terraform").exists()


def test_deploys_in_dependency_order_then_plans_no_changes(tmp_path):
    run = Run([consumer(tmp_path), producer(tmp_path)])
    expected = [
        StackId("producer", "producer-base"),
        StackId("producer", "producer-top"),
        StackId("consumer", "consumer"),
    ]
    assert run.order() == expected
    results = run.deploy(yes, verify=True)
    assert [r for r in results.values() if isinstance(r, BaseException)] == []
    started = sorted(run.nodes, key=lambda n: run.outcomes[n].started)
    assert started.index(StackId("producer", "producer-top")) < started.index(StackId("consumer", "consumer"))
    assert run.outcomes[StackId("consumer", "consumer")].plan.count("add") == 1
    assert run.flat_outputs("consumer") == {"used": "v1"}
    assert all(run.outcomes[n].verified.no_changes for n in run.nodes)
    again = Run([consumer_again(tmp_path), producer_again(tmp_path)])
    assert [p.counts() for p in again.plan()] == ["no changes"] * 3


def consumer_again(root: Path) -> Workspace:
    return Workspace("consumer", root / "consumer", root / "consumer" / "cdktf.out", consumer_stacks(root), {})


def consumer_stacks(root: Path) -> dict[str, dict[str, Any]]:
    return {
        "consumer": json.loads((root / "consumer" / "cdktf.out" / "stacks" / "consumer" / "cdk.tf.json").read_text())
    }


def producer_again(root: Path) -> Workspace:
    folder = root / "producer" / "cdktf.out"
    stacks = {p.parent.name: json.loads(p.read_text()) for p in folder.glob("stacks/*/cdk.tf.json")}
    return Workspace("producer", root / "producer", folder, stacks, {"producer-top": ["producer-base"]})


def test_fails_a_declined_plan_is_not_applied_and_stops_what_depends_on_it(tmp_path):
    first = Run([producer(tmp_path)])
    first.deploy(yes)
    changed = producer_again(tmp_path)
    for document in changed.stacks.values():
        document["resource"]["terraform_data"]["record"]["triggers_replace"] = [2]
    for name, document in changed.stacks.items():
        (changed.stack_dir(name) / "cdk.tf.json").write_text(json.dumps(document))
    plans: list[Any] = []
    results = Run([changed, consumer(tmp_path)]).deploy(lambda plan: plans.append(plan) or False)
    assert isinstance(results[StackId("producer", "producer-base")], Declined)
    assert (
        str(results[StackId("consumer", "consumer")]) == "consumer/consumer needs producer/producer-top, which failed"
    )
    assert [(c.kind, c.forces_replacement) for c in plans[0].changes] == [("replace", ("triggers_replace",))]


def test_one_stack_of_a_package_is_deployed_alone_its_producers_taken_as_deployed(tmp_path):
    whole = producer(tmp_path)
    only = whole.only(["producer-top"])
    assert (list(only.stacks), only.deps) == (["producer-top"], {"producer-top": []})
    with pytest.raises(ValueError, match="producer has no stack nope; it has producer-base, producer-top"):
        whole.only(["nope"])


def test_approved_in_advance_applies_each_stack_in_one_terraform_process_then_plans_no_changes(tmp_path):
    from platform_tooling.deploy.terraform import CALLS

    before = len(CALLS)
    run = Run([consumer(tmp_path), producer(tmp_path)], review=False)
    results = run.deploy(lambda plan: pytest.fail("nothing is asked when plans are approved in advance"), verify=True)
    assert [r for r in results.values() if isinstance(r, BaseException)] == []
    assert run.flat_outputs("consumer") == {"used": "v1"}
    summary = run.outcomes[StackId("consumer", "consumer")].plan
    assert [(c.address, c.type, c.kind) for c in summary.changes] == [("terraform_data.uses", "terraform_data", "add")]
    assert all(run.outcomes[n].verified.no_changes for n in run.nodes)
    commands = [c.command for c in CALLS[before:] if c.workdir == run.workspaces["consumer"].stack_dir("consumer")]
    assert sorted(commands) == ["apply", "init", "plan"]


def test_fails_an_apply_approved_in_advance_reports_terraforms_error(tmp_path):
    broken = producer(tmp_path)
    document = broken.stacks["producer-base"]
    document["resource"]["terraform_data"]["record"]["input"] = '${file("missing.txt")}'
    (broken.stack_dir("producer-base") / "cdk.tf.json").write_text(json.dumps(document))
    results = Run([broken], review=False).deploy(yes)
    error = str(results[StackId("producer", "producer-base")])
    assert "terraform apply in producer-base exited 1" in error
    assert "Invalid function argument" in error
    assert str(results[StackId("producer", "producer-top")]) == (
        "producer/producer-top needs producer/producer-base, which failed"
    )


def test_each_stack_is_reported_settled_once_applied_and_planned_again(tmp_path):
    settled: list[tuple[StackId, BaseException | None, bool]] = []
    run = Run([consumer(tmp_path), producer(tmp_path)], review=False)

    def note(node: StackId, error: BaseException | None) -> None:
        settled.append((node, error, run.outcomes[node].verified is not None))

    run.deploy(yes, verify=True, settled=note)
    assert sorted(settled) == sorted((node, None, True) for node in run.nodes)
    assert settled.index((StackId("producer", "producer-top"), None, True)) < settled.index(
        (StackId("consumer", "consumer"), None, True)
    )


def test_a_failed_stack_is_reported_settled_with_its_error_and_what_needs_it_is_not(tmp_path):
    broken = producer(tmp_path)
    document = broken.stacks["producer-base"]
    document["resource"]["terraform_data"]["record"]["input"] = '${file("missing.txt")}'
    (broken.stack_dir("producer-base") / "cdk.tf.json").write_text(json.dumps(document))
    settled: list[tuple[StackId, str]] = []
    Run([broken], review=False).deploy(yes, verify=True, settled=lambda n, e: settled.append((n, str(e))))
    assert len(settled) == 1
    assert settled[0][0] == StackId("producer", "producer-base")
    assert "terraform apply in producer-base exited 1" in settled[0][1]


def test_destroy_waits_for_each_stack_then_destroys_readers_first(tmp_path):
    run = Run([consumer(tmp_path), producer(tmp_path)], review=False)
    run.deploy(yes)
    asked: list[StackId] = []
    results = run.destroy(run.nodes, refresh=False, after=asked.append)
    assert [r for r in results.values() if r is not None] == []
    assert asked == [
        StackId("consumer", "consumer"),
        StackId("producer", "producer-top"),
        StackId("producer", "producer-base"),
    ]
    for node in run.nodes:
        state = json.loads(Path(_state(tmp_path, node.package, node.stack)).read_text())
        assert state["resources"] == []


def test_the_critical_chain_has_its_own_slot_when_every_other_is_taken(tmp_path):
    import threading
    from contextlib import AbstractContextManager, ExitStack

    from platform_tooling.deploy.engine import slots

    def gets_a_slot(hold: AbstractContextManager[None]) -> bool:
        def take() -> None:
            with hold:
                pass

        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        taker.join(timeout=2)
        return not taker.is_alive()

    run = Run([consumer(tmp_path), producer(tmp_path)])
    chain = [StackId("producer", "producer-base"), StackId("producer", "producer-top"), StackId("consumer", "consumer")]
    assert run.critical == set(chain)
    assert run.chain_end == chain[-1]
    with ExitStack() as taken:
        for _ in range(slots()):  # every shared slot held by calls off the chain
            taken.enter_context(run._hold(StackId("other", "x"), 1000.0))
        assert gets_a_slot(run._hold(chain[1], run.priority[chain[1]]))  # the chain's apply
        assert gets_a_slot(run._hold(chain[-1], run.weights[chain[-1]], on_chain=True))  # its last re-plan
        assert not gets_a_slot(run._hold(chain[0], 0.0, on_chain=False))  # off the chain: waits
