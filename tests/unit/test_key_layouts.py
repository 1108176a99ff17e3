"""Composite keys keep the layouts stored items already have: a new layout would hide every existing item from
the index queries that find it."""

from datetime import datetime, timezone

import pytest

from chalicelib.models import (
    BatchReferenceModel,
    DeviceModel,
    InvitationModel,
    MailTemplateModel,
    OrganizationModel,
    RateLimitModel,
    TemplateSlotModel,
    time_ordered_key,
)

AT = datetime(2026, 12, 3, 16, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "built,stored",
    [
        (lambda: DeviceModel.catalog_key("org_a", "CLAIMED"), "org_a#CLAIMED"),
        (lambda: InvitationModel(created_at=AT).state_key_in("SENT"), "SENT#2026-12-03T16:00:00+00:00"),
        (lambda: InvitationModel.state_key_prefix("SENT"), "SENT#"),
        (lambda: MailTemplateModel.sort_key_of("invite", "de", "tpl_1"), "invite#de#tpl_1"),
        (lambda: MailTemplateModel.sort_key_prefix("invite", "de"), "invite#de#"),
        (lambda: MailTemplateModel.sort_key_prefix("invite"), "invite#"),
        (lambda: TemplateSlotModel.slot_of("system", "invite", "de"), "system#invite#de"),
        (lambda: BatchReferenceModel.key_of("org_a", "PO-1"), "org_a#PO-1"),
        (lambda: RateLimitModel.bucket_of("login_failed", "ab12", 7), "login_failed:ab12:7"),
        (lambda: OrganizationModel.path_of("/root/", "org_a"), "/root/org_a/"),
        (lambda: time_ordered_key(AT, "exp_1"), "2026-12-03T16:00:00+00:00#exp_1"),
    ],
)
def test_each_key_is_built_in_the_layout_stored_items_have(built, stored):
    assert built() == stored


def test_a_device_owned_by_nobody_has_no_owner_index_keys():
    assert DeviceModel.index_keys("maker", None, "UNCLAIMED", "meter") == {
        "maker_status": "maker#UNCLAIMED",
        "maker_product": "maker#meter",
        "owner_status": None,
        "owner_product": None,
    }


@pytest.mark.parametrize("org_id,inside", [("root", True), ("org_a", True), ("org", False), ("a", False)])
def test_a_path_holds_only_whole_organization_ids(org_id, inside):
    assert OrganizationModel.path_holds("/root/org_a/", org_id) is inside
