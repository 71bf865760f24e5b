#!/usr/bin/env python3
"""A synthetic IT Glue export for benches/import.sh, written as a folder (never committed):
ORGS organizations (one in ten a sub-organization) and RECORDS records spread over contacts (40%),
configurations (30%), passwords (20%, with one-time-password secrets), documents (5%, an HTML body
each, one in ten with a small image saved without its extension, links to the previous document)
and a flexible asset file, ssl-certificates.csv (5%).

    benches/import_export.py DIR ORGS RECORDS
"""
import csv
import os
import sys

PNG = (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"
       + b"\0" * 200)


def writer(path, header):
    f = open(path, "w", newline="", encoding="utf-8")
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(header)
    return f, w


def main():
    out, orgs, records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    name = lambda i: f"Customer {i:06d}"
    f, w = writer(f"{out}/organizations.csv", ["id", "name", "short_name", "description",
                                              "quick_notes", "alert", "organization_type",
                                              "organization_status", "parent_id"])
    for i in range(orgs):
        parent = str(1_000_000 + i - 1) if i % 10 == 9 else ""
        w.writerow([1_000_000 + i, name(i), f"C{i}", f"Customer number {i}\nsecond line", "", "",
                    ["Customer", "Vendor", "Prospect"][i % 3], "Active", parent])
    f.close()

    share = {"contacts": 0.40, "configurations": 0.30, "passwords": 0.20, "documents": 0.05}
    counts = {k: int(records * v) for k, v in share.items()}
    counts["flex"] = records - sum(counts.values())

    f, w = writer(f"{out}/contacts.csv", ["id", "organization", "first_name", "last_name", "title",
                                         "emails", "phones", "notes", "archived"])
    for n in range(counts["contacts"]):
        w.writerow([2_000_000 + n, name(n % orgs), f"First{n}", f"Last{n}", "Engineer",
                    f"person{n}@example.com", f"+1 555 {n:07d}", "", "No"])
    f.close()

    f, w = writer(f"{out}/configurations.csv", ["id", "organization", "name", "configuration_type",
                                               "hostname", "primary_ip", "serial_number",
                                               "installed_at", "archived"])
    for n in range(counts["configurations"]):
        w.writerow([3_000_000 + n, name(n % orgs), f"host-{n}", "Server", f"host-{n}.example.com",
                    f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", f"SN{n:09d}",
                    "2024-03-15", "No"])
    f.close()

    f, w = writer(f"{out}/passwords.csv", ["id", "organization", "name", "password_category",
                                          "resource_type", "resource_id", "username", "password",
                                          "one_time_password", "archived", "url", "notes",
                                          "otp_secret"])
    for n in range(counts["passwords"]):
        w.writerow([4_000_000 + n, name(n % orgs), f"Login {n}", "Admin", "", "", f"admin{n}",
                    f"pw-{n}-secret", "No", "No", "https://example.com/login", "",
                    "JBSWY3DPEHPK3PXP" if n % 4 == 0 else ""])
    f.close()

    f, w = writer(f"{out}/documents.csv", ["id", "organization", "name", "expires_on", "owner",
                                          "publisher", "locator", "public", "archived",
                                          "help_center"])
    for n in range(counts["documents"]):
        org = n % orgs
        doc = 5_000_000 + n
        title = f"Runbook {n}"
        w.writerow([doc, name(org), title, "", "", "", "", "No", "No", "No"])
        folder = f"{out}/documents/DOC-{1_000_000 + org}-{doc} {title}"
        os.makedirs(folder, exist_ok=True)
        body = (f"<h1>{title}</h1><p>Steps for customer {org}.</p>"
                f"<ol><li>Log in</li><li>Restart the service</li></ol>"
                f"<a href=\"https://acme.itglue.com/{1_000_000 + org}/docs/{doc - 1}\">previous</a>")
        if n % 10 == 0:
            body += "<img src=\"diagram.png\">"
            with open(f"{folder}/diagram", "wb") as img:
                img.write(PNG)
        with open(f"{folder}/{title}.html", "w", encoding="utf-8") as html:
            html.write(body)
    f.close()

    f, w = writer(f"{out}/ssl-certificates.csv", ["id", "organization", "name", "issuer",
                                                 "expires_on", "seats", "auto_renew", "archived"])
    for n in range(counts["flex"]):
        w.writerow([6_000_000 + n, name(n % orgs), f"cert-{n}.example.com", "Let's Encrypt",
                    "2027-01-15", n % 50, "Yes" if n % 2 else "No", "No"])
    f.close()
    print(f"{orgs} organizations, {sum(counts.values())} records: "
          + ", ".join(f"{v} {k}" for k, v in counts.items()))


main()
