"""Audit evidence: the requirements register, the tests that prove each requirement, the
synthesized resources that carry it, the policy rules and controls, and generated diagrams."""
