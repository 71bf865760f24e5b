"""Drives Roster with the public `pytglue` 1.0.2 client. It hard-codes IT Glue's host in its URL
table, so, as a user would, the table is pointed at Roster (ROSTER_API_URL) before it starts;
the key comes from ROSTER_API_KEY. Prints one JSON object of what it saw."""

import json
import os

import pytglue as module

base = os.environ["ROSTER_API_URL"].rstrip("/")
for name, url in module.urlDict.items():
    module.urlDict[name] = url.replace("https://api.itglue.com", base)

# The constructor reads thirteen look-up lists (organizations, types, statuses, regions...).
glue = module.pytglue(os.environ["ROSTER_API_KEY"])
out = {
    "organizations_loaded": len(glue.idlist["organizations"]),
    "types_loaded": sorted(glue.idlist["organization_types"]),
}
glue.Query("Organizations")
glue.Filter(name="Client 010")
glue.Get()
out["filtered"] = [o["attributes"]["name"] for o in glue.rawdata["data"]]
print(json.dumps(out))
