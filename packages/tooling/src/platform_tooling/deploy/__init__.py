"""Team-owned deployments: plan and apply a package's stacks in dependency order.

The one place that orders and applies stacks (:mod:`.engine`): ``nox -s plan|deploy`` use it
against AWS or a local emulator (:mod:`.cli`), and the emulator rung of the ladder deploys
through it too. A stack waits for the stacks it depends on (cdktf's manifest) and for the
stacks of other packages whose outputs it reads (its ``terraform_remote_state`` data sources,
:mod:`.reads`); before anything is planned, a stack whose producer has not published the
outputs it reads is refused with the producer, the stack and the output named. Plans are
summarized from ``terraform show -json`` (:mod:`.summary`), replacements and destroys of
stateful resources (:mod:`.stateful`) first.
"""
