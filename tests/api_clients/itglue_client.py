"""Drives Roster with the public `itglue` 0.2.0 client, unmodified: base URL and key from the
environment (ROSTER_API_URL, ROSTER_API_KEY). Prints one JSON object of what it saw; the Rust test
(tests/app/api_clients.rs) asserts it and the database."""

import json
import os

import itglue
from itglue import Organization
from itglue.resources import ResourceBase


# itglue 0.2.0 has no classes for these; a user adds them as the library's own are written.
class OrganizationType(ResourceBase):
    @classmethod
    def resource_type(cls):
        return "organization_types"


class OrganizationStatus(ResourceBase):
    @classmethod
    def resource_type(cls):
        return "organization_statuses"


itglue.connection.set_credentials(
    api_key=os.environ["ROSTER_API_KEY"], api_url=os.environ["ROSTER_API_URL"]
)
out = {}
# Every page (itglue follows links.next while meta.next-page is set).
out["all"] = len(Organization.get())
out["filtered"] = [o.get_attr("name") for o in Organization.filter(name="Client 007")]

created = Organization(name="Made By Itglue", short_name="MBI")
created.save()
out["created"] = int(created.id)
# save() again: PATCH with every attribute it holds, snake_case, ids as strings.
created.set_attr("alert", "Set by itglue")
created.save()
out["alert"] = Organization.find(created.id).get_attr("alert")

first, second = Organization.filter(name="Client 001")[0], Organization.filter(name="Client 002")[0]
first.set_attr("quick_notes", "bulk 1")
second.set_attr("quick_notes", "bulk 2")
out["bulk_updated"] = len(Organization.bulk_update([first, second]))

doomed = [Organization.filter(name="Client 003")[0], Organization.filter(name="Client 004")[0]]
out["bulk_deleted"] = sorted(int(o.id) for o in Organization.bulk_delete(doomed))

kind = OrganizationType(name="Itglue Type")
kind.save()
out["type"] = kind.get_attr("name")
out["types"] = sorted(t.get_attr("name") for t in OrganizationType.get())
out["statuses"] = sorted(s.get_attr("name") for s in OrganizationStatus.get())
print(json.dumps(out))
