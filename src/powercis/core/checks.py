"""System checks: the shipped posts, conflicting pairs and workflows must agree with the permission catalogue."""

from __future__ import annotations

from django.core import checks

from . import workflow
from .permission_catalog import BY_CODE
from .standard_data import STANDARD_POSTS, STANDARD_SOD_RULES


@checks.register()
def standard_data_consistent(app_configs=None, **kwargs):
    errors = []
    post_codes = {p.code for p in STANDARD_POSTS}
    for post in STANDARD_POSTS:
        for code in post.permissions:
            if code not in BY_CODE:
                errors.append(checks.Error(f"standard post {post.code} names unknown permission {code}", id="powercis.E001"))
        held = set(post.permissions)
        for rule in STANDARD_SOD_RULES:
            if rule.a in held and rule.b in held:
                errors.append(checks.Error(f"standard post {post.code} holds the conflicting pair {rule.a} / {rule.b}",
                                           id="powercis.E002"))
    for rule in STANDARD_SOD_RULES:
        for code in (rule.a, rule.b):
            if code not in BY_CODE:
                errors.append(checks.Error(f"separation-of-duties rule names unknown permission {code}", id="powercis.E003"))
    for doc_type in workflow.all_types():
        if doc_type.submit_permission not in BY_CODE:
            errors.append(checks.Error(f"{doc_type.code}: unknown submit permission", id="powercis.E004"))
        for step in doc_type.steps:
            if step.post not in post_codes:
                errors.append(checks.Error(f"{doc_type.code}: step post {step.post} is not a standard post", id="powercis.E005"))
            if step.permission not in BY_CODE:
                errors.append(checks.Error(f"{doc_type.code}: unknown step permission {step.permission}", id="powercis.E006"))
            elif step.post in post_codes and step.permission not in next(p for p in STANDARD_POSTS if p.code == step.post).permissions:
                errors.append(checks.Error(f"{doc_type.code}: post {step.post} lacks {step.permission}", id="powercis.E007"))
    return errors
