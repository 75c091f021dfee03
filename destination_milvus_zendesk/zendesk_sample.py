"""Deterministic, realistic Zendesk Support sample data (tickets + help-center articles).

Yields Airbyte protocol messages (``RECORD`` / ``STATE`` dicts) shaped like what the
``airbyte-source-zendesk-support`` connector emits for its ``tickets`` and ``articles``
streams, so the destination can be exercised end to end without a Zendesk account.

* stdlib only, no network; the only randomness is a seeded ``random.Random`` that is
  re-seeded per record (``(seed, kind, index)``), so a record's content does not depend
  on how many records come before it, and the same arguments give byte-identical output;
* streaming, O(1) memory, any size (200,000 tickets is fine);
* ``mode="update-metadata"`` / ``"update-paragraph"`` re-emit the same ids with a later
  ``updated_at`` so incremental / dedup behaviour of the destination can be tested;
* :func:`build_eval_queries` builds the evaluation set of the support form (duplicate
  tickets, helpful articles, novel problems) from the same templates.

Custom field values: the Zendesk API returns checkbox fields as booleans, numeric fields as
numbers and multiselect fields as lists, but the source connector's schema declares
``custom_fields[].value`` (and ``fields[].value``) as ``["null", "string"]`` and its manifest
applies ``schema_normalization: Default``, so the CDK ``TypeTransformer`` turns them into
``str(value)`` (``True`` -> ``"True"``, ``12`` -> ``"12"``, ``["a"]`` -> ``"['a']"``).
By default this module emits exactly that (schema-valid) output; ``raw_types=True`` emits the
API-native mixed types instead (what a source without normalization would send).

CLI::

    python -m destination_milvus_zendesk.zendesk_sample --tickets 300 --articles 40 \\
        --seed 7 --mode initial > out.jsonl
    python -m destination_milvus_zendesk.zendesk_sample --catalog > catalog.json
    python -m destination_milvus_zendesk.zendesk_sample --eval-queries > eval_queries.json
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import random
import re
import sys
import time
import unicodedata
from bisect import bisect_right
from typing import Any, Iterator

__all__ = [
    "MODES",
    "TOPICS",
    "TOPIC_KEYS",
    "SUBDOMAIN_URL",
    "generate_messages",
    "configured_catalog",
    "build_eval_queries",
    "dumps",
    "ticket_topic",
    "article_topic",
    "article_is_long",
    "article_ids_by_topic",
    "main",
]

MODES = ("initial", "update-metadata", "update-paragraph")

SUBDOMAIN_URL = "https://example.zendesk.com"
VENDOR = "Lumen"
VENDOR_DOMAIN = "lumenhq.example"
SUPPORT_ADDRESS = "support@example.zendesk.com"

# Tickets are created over one year ending one week before the initial sync.
_DAY = 86400
_TICKETS_START = 1704067200  # 2024-01-01T00:00:00Z
_TICKETS_SPAN = 358 * _DAY
_SYNC_TIME = {  # sync start, epoch seconds
    "initial": 1735689600,  # 2025-01-01T00:00:00Z
    "update-metadata": 1736294400,  # 2025-01-08
    "update-paragraph": 1736899200,  # 2025-01-15
}
_ARTICLES_START = 1640995200  # 2022-01-01T00:00:00Z
_ARTICLES_SPAN = 2 * 365 * _DAY

# per-record RNG streams
_K_TICKET, _K_ARTICLE, _K_EVAL = 1, 3, 5
_K_TICKET_UPD = {"update-metadata": 2, "update-paragraph": 6}
_K_ARTICLE_UPD = {"update-metadata": 4, "update-paragraph": 7}

TICKET_ID_BASE = 1001
ARTICLE_ID_BASE = 4400000001000
ARTICLE_ID_STEP = 1000
ORG_ID_BASE = 360000100000
USER_ID_BASE = 1100000000000
AGENT_ID_BASE = 1900000000000
BRAND_ID = 360000012345
TICKET_FORM_ID = 360000054321
AUTHOR_IDS = (1900000000003, 1900000000007, 1900000000011, 1900000000015)

# ---------------------------------------------------------------------------------------
# Content: one dict per support topic.
#   slots      ticket slot values; a value is "text" or ("canonical", "alternative wording").
#              In templates {x} is the canonical form, {x2} the alternative (used by the
#              paraphrases), {X}/{X2} the same capitalised, {qx} the canonical in quotes.
#   problems   (subjects, description sentence, paraphrases): each paraphrase re-words the
#              same facts as its description sentence, for the duplicate evaluation set.
#   details / tried   extra context sentences for descriptions.
#   questions  how-to questions a customer may type into the support form.
#   facts / steps / causes / faq / terms   help-center article material.
#   articles   (title, kind) with kind in guide (long) | howto | troubleshoot | faq.
# Common slots available in every template: when, num, inv, amount, order, version,
# records, seats, seats_real, month, deadline, plan_from, plan_to.
# ---------------------------------------------------------------------------------------

TOPICS: list[dict[str, Any]] = [
    {
        "key": "sso",
        "name": "SSO / SAML sign-in",
        "group": "accounts",
        "tags": ["sso", "login"],
        "slots": {
            "idp": ["Okta", "Azure AD", "Google Workspace", "OneLogin", "Ping Identity", "JumpCloud"],
            "err": [
                "SAML response is not valid",
                "Invalid audience URI",
                "Signature validation failed",
                "User is not provisioned for this application",
                "NameID missing in SAML assertion",
            ],
            "who": [
                ("our finance team", "the people in finance"),
                ("new hires", "recently onboarded employees"),
                ("people in our EU office", "all our European staff"),
                ("our contractors", "the external contractors"),
                ("our sales reps", "the people in sales"),
            ],
        },
        "problems": [
            (
                ["SSO login broken with {idp}", "Can't sign in via {idp} SSO", "sso not working"],
                "{Who} can't log in with SSO {when}. After entering their credentials in {idp} they get "
                "bounced back to our login page with the error {qerr}.",
                [
                    "{When2}, {who2} are unable to get in using single sign-on. {idp} authenticates them fine, "
                    "but then your site shows {qerr} and sends them back to the sign-in screen.",
                    "Getting {qerr} on SSO login with {idp}. {Who2} are locked out {when2}.",
                ],
            ),
            (
                ["SAML error: {err}", "SSO error after certificate rotation"],
                "We rotated the SAML signing certificate in {idp} yesterday and since then every SSO login fails "
                "with {qerr}. I think I uploaded the new certificate on your side too.",
                [
                    "Ever since the signing certificate was renewed in our {idp} tenant, SSO sign-in is broken and "
                    "shows {qerr}, even though the new cert should be in your admin settings as well.",
                    "After a certificate change in {idp}, single sign-on keeps erroring out with {qerr} for everybody.",
                ],
            ),
            (
                ["SSO works for some users but not others", "Some users get {qerr} on SSO"],
                "SSO works for most of our people, but {who} get {qerr} when they try to sign in through {idp}. "
                "They are assigned to the app in {idp} as far as I can see.",
                [
                    "Single sign-on is fine for the majority of our accounts, only {who2} see {qerr} when logging "
                    "in via {idp}, although the app assignment in {idp} looks correct.",
                    "Some of our users, namely {who2}, fail the {idp} SSO login with {qerr} while everybody else "
                    "gets in without issues.",
                ],
            ),
        ],
        "details": [
            "I checked with the SAML-tracer extension and the assertion looks fine to me, the NameID is the user's email.",
            "It works in an incognito window for some people but not for others.",
            "Users who were already logged in are fine, it's only new sessions.",
            "We also use SCIM provisioning and the users do show up in the member list.",
            "Nothing changed in our {idp} configuration as far as I know.",
        ],
        "tried": [
            "We already re-uploaded the metadata XML from {idp}.",
            "I tried removing and re-adding the app in {idp}, no change.",
        ],
        "questions": [
            "How do I set up SAML single sign-on with {idp}?",
            "Where do I find the Entity ID and ACS URL for our SSO configuration?",
            "Can we enforce SSO for all users but keep a password login for the owner?",
        ],
        "facts": [
            "Single sign-on (SSO) lets your team sign in with the credentials they already use for your identity "
            "provider (IdP) instead of a separate password.",
            "We support SAML 2.0 identity providers such as Okta, Azure AD (Microsoft Entra ID), Google Workspace, "
            "OneLogin and Ping Identity.",
            "The SAML assertion must contain a NameID in email format that matches the email address of an existing "
            "user, unless just-in-time provisioning is turned on.",
            "Each workspace has its own Entity ID and Assertion Consumer Service (ACS) URL, shown on the SSO settings page.",
            "When SSO is enforced, password sign-in is disabled for everyone except the account owner, who keeps a "
            "password as a fallback.",
            "The signing certificate of your IdP expires periodically; when you rotate it there, upload the new "
            "certificate here as well or every SSO sign-in fails with a signature error.",
            "SCIM provisioning keeps user accounts in sync with your directory, creating, updating and deactivating "
            "users automatically.",
            "A clock difference of more than three minutes between your IdP and our servers makes assertions look "
            "expired, and they are rejected.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Security &gt; Single sign-on</strong> and click <strong>Configure SAML</strong>.",
            "Copy the <strong>Entity ID</strong> and <strong>ACS URL</strong> into a new SAML application in your IdP.",
            "Set the NameID format to <code>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</code>.",
            "Download the IdP metadata XML and upload it, or paste the SSO URL and the X.509 certificate manually.",
            "Click <strong>Test configuration</strong> and sign in with a test user who is not an admin.",
            "When the test succeeds, turn on <strong>Enforce SSO</strong> for all members.",
        ],
        "causes": [
            "the X.509 certificate was rotated in the IdP but the old certificate is still uploaded here",
            "the Entity ID or ACS URL in the IdP contains a typo or points to a different workspace",
            "the NameID is sent as a persistent identifier instead of the user's email address",
            "the user is not assigned to the SAML application in the identity provider",
            "the clock of an on-premises IdP server has drifted by several minutes",
        ],
        "faq": [
            ("Can some users keep signing in with a password?",
             "Yes. Leave <strong>Enforce SSO</strong> off and members can choose either method. The account owner "
             "can always sign in with a password."),
            ("Do you support more than one identity provider?",
             "Enterprise workspaces can configure up to three SAML connections and route users by email domain."),
            ("What happens to existing sessions when I turn SSO on?",
             "Existing sessions stay valid until they expire; members are asked to sign in with SSO the next time."),
        ],
        "terms": {"path": "Admin Center &gt; Security &gt; Single sign-on", "thing": "SSO configuration",
                  "artifact": "SAML trace from the SAML-tracer browser extension"},
        "articles": [
            ("Setting up SAML single sign-on: the complete guide", "guide"),
            ("Troubleshooting SSO sign-in errors", "troubleshoot"),
            ("Automatic user provisioning with SCIM", "howto"),
        ],
    },
    {
        "key": "two_factor",
        "name": "Two-factor authentication",
        "group": "accounts",
        "tags": ["2fa", "login"],
        "slots": {
            "app": ["Google Authenticator", "Microsoft Authenticator", "Authy", "1Password", "Duo Mobile"],
            "who": [
                ("one of our admins", "an admin on our side"),
                ("our CFO", "our chief financial officer"),
                ("a colleague in sales", "someone on our sales team"),
                ("our office manager", "the person who runs our office"),
                ("a new team member", "someone who just joined us"),
            ],
            "phone": [
                ("got a new phone", "switched to a new phone"),
                ("lost their phone", "misplaced their phone"),
                ("had their phone stolen", "had their phone stolen on a trip"),
                ("reset their phone to factory settings", "wiped their phone"),
            ],
        },
        "problems": [
            (
                ["Lost 2FA device, locked out", "Need 2FA reset for a user", "locked out because of 2fa"],
                "{Who} {phone} and can no longer get the two-factor codes from {app}. They don't have the backup "
                "codes either. How can we get them back into their account?",
                [
                    "{Who2} {phone2}, so the {app} codes for two-factor authentication are gone and there are no "
                    "recovery codes. What's the process to restore access?",
                    "Locked out because of 2FA: {who2} {phone2} and {app} isn't on it anymore. No backup codes saved. "
                    "Can you reset the second factor?",
                ],
            ),
            (
                ["2FA code always invalid", "Two-factor codes from {app} rejected"],
                "Every code from {app} gets rejected with \"Invalid verification code\" when {who} tries to log in. "
                "The codes are definitely typed correctly and we tried several in a row.",
                [
                    "{Who2} keeps getting \"Invalid verification code\" at login although the six digits from {app} "
                    "are entered correctly, multiple attempts in a row.",
                    "The two-factor step refuses every {app} code for {who2}, always saying the verification code is "
                    "invalid.",
                ],
            ),
            (
                ["Not receiving 2FA SMS", "SMS verification code never arrives"],
                "{Who} is not receiving the SMS with the verification code {when}. The phone number in the profile "
                "is correct and other texts arrive normally.",
                [
                    "The text message with the 2FA code doesn't reach {who2} {when2}, even though the mobile number on "
                    "the profile is right and regular SMS come through.",
                    "No verification SMS for {who2} {when2}; the number is correct and the phone receives other "
                    "messages fine.",
                ],
            ),
        ],
        "details": [
            "The clock on the phone is set automatically.",
            "Enforcing 2FA was turned on by our security team last month.",
            "We tried both the web app and the iOS app.",
            "They are travelling abroad at the moment, if that matters.",
        ],
        "tried": [
            "I asked them to resync the time on the phone.",
            "We tried removing and re-adding the account in {app}.",
        ],
        "questions": [
            "How do I turn on two-factor authentication for my whole team?",
            "Which authenticator apps can I use for 2FA?",
            "What should I do if I lose the phone with my authenticator app?",
        ],
        "facts": [
            "Two-factor authentication (2FA) adds a second step to sign-in: after your password, you enter a six-digit "
            "code from an authenticator app or a text message.",
            "We support any TOTP authenticator app, including Google Authenticator, Microsoft Authenticator, Authy, "
            "1Password and Duo Mobile.",
            "When you turn on 2FA you receive ten one-time backup codes; each code works once and should be stored "
            "somewhere safe, such as a password manager.",
            "TOTP codes depend on the time on your phone, so a clock that is off by more than 30 seconds produces "
            "codes that are rejected as invalid.",
            "Admins can require 2FA for every member of the workspace under <strong>Admin Center &gt; Security &gt; "
            "Authentication</strong>.",
            "SMS codes are sent from a short code in the US and Canada and from an alphanumeric sender elsewhere; "
            "some carriers filter these messages.",
            "If a member loses their device, an admin can reset their second factor, after which the member sets up "
            "2FA again at the next sign-in.",
            "Account owners who lose access must verify their identity with our support team, which can take up to "
            "two business days.",
        ],
        "steps": [
            "Open your profile menu and choose <strong>Security settings</strong>.",
            "Click <strong>Turn on two-factor authentication</strong> and enter your password again.",
            "Scan the QR code with your authenticator app, or type the setup key manually.",
            "Enter the six-digit code the app shows and click <strong>Verify</strong>.",
            "Download or print your backup codes and store them in a safe place.",
        ],
        "causes": [
            "the time on the phone is set manually and has drifted",
            "the member scanned the QR code twice and reads a code from an old entry in the app",
            "the mobile carrier blocks messages from short codes",
            "the phone number was saved without the country code",
            "the backup codes were regenerated, which invalidates all previous ones",
        ],
        "faq": [
            ("Can I use a hardware security key?",
             "Yes, FIDO2 security keys such as a YubiKey are supported on the Professional and Enterprise plans, in "
             "addition to authenticator apps."),
            ("How do I reset 2FA for someone on my team?",
             "Go to <strong>Admin Center &gt; Members</strong>, open the member and click <strong>Reset two-factor "
             "authentication</strong>. They set it up again at the next sign-in."),
        ],
        "terms": {"path": "Admin Center &gt; Security &gt; Authentication", "thing": "two-factor authentication settings",
                  "artifact": "exact error message and the phone model"},
        "articles": [
            ("Turning on two-factor authentication", "howto"),
            ("Lost your 2FA device? How to regain access", "troubleshoot"),
            ("Supported authenticator apps and security keys", "faq"),
        ],
    },
    {
        "key": "password_reset",
        "name": "Password reset",
        "group": "accounts",
        "tags": ["password", "login"],
        "slots": {
            "mail": [("Outlook", "Outlook / Office 365"), ("Gmail", "Google Mail"),
                     ("our company mail server", "our own mail server")],
            "err": ["This link has expired", "Invalid or expired token", "Something went wrong"],
        },
        "problems": [
            (
                ["Password reset email not arriving", "No reset link received", "forgot password email missing"],
                "I requested a password reset several times {when} but the email never shows up. Checked spam and "
                "junk in {mail}, nothing there.",
                [
                    "The password reset link doesn't arrive in my inbox. I've asked for it multiple times {when2} and "
                    "it's not in the {mail2} spam folder either.",
                    "Never getting the forgot-password email. Tried again and again {when2}, nothing in {mail2}, not "
                    "even in junk.",
                ],
            ),
            (
                ["Reset link says {qerr}", "Password reset link not working"],
                "When I click the reset link from the email I get {qerr} straight away, even when I click it within "
                "a minute of receiving it. I'm using {mail}.",
                [
                    "Clicking the link in the password reset email immediately gives me {qerr}, no matter how fast I "
                    "open it after it arrives ({mail2}).",
                    "The forgot-password link is broken for me: it shows {qerr} right after I open it from {mail2}.",
                ],
            ),
            (
                ["Account locked after failed logins", "Locked out - too many password attempts"],
                "I think I typed my password wrong too many times and now my account is locked. The reset email "
                "does not help because after setting a new password it still says the account is locked.",
                [
                    "My account got locked after several wrong password attempts and even after resetting the "
                    "password it keeps saying locked.",
                    "Too many failed sign-in attempts locked my account; choosing a new password through the reset "
                    "flow didn't unlock it.",
                ],
            ),
        ],
        "details": [
            "My username is my work email address.",
            "I use a password manager, so maybe it saved an old password.",
            "Colleagues can reset their passwords without problems.",
            "I last logged in about two weeks ago.",
        ],
        "impacts": ["I need access today to approve timesheets.", "I have a deadline this afternoon.",
                    "Please help, I can't work without access."],
        "tried": [
            "I cleared my browser cache and tried in a private window.",
            "I asked our IT to whitelist your domain.",
        ],
        "questions": [
            "How do I reset my password?",
            "Why doesn't the password reset email arrive?",
            "How long is a password reset link valid?",
        ],
        "facts": [
            "You can reset your password from the sign-in page by clicking <strong>Forgot password?</strong> and "
            "entering the email address you use to sign in.",
            "Reset links are valid for 60 minutes and can only be used once; requesting a new link invalidates the "
            "previous one.",
            "Password reset emails are sent from <code>no-reply@lumenhq.example</code>; if your company filters "
            "external mail, ask IT to allow this address.",
            "After five failed sign-in attempts the account is locked for 15 minutes to protect it from password "
            "guessing.",
            "If your workspace uses single sign-on, passwords are managed by your identity provider and the reset "
            "link is not available.",
            "Some email security scanners open links automatically, which uses up the one-time reset link before "
            "you click it.",
            "Passwords must be at least 12 characters long and cannot match any of your last five passwords.",
        ],
        "steps": [
            "Go to the sign-in page and click <strong>Forgot password?</strong>.",
            "Enter the email address you use to sign in and click <strong>Send reset link</strong>.",
            "Open the email titled <em>Reset your password</em> and click the link within 60&nbsp;minutes.",
            "Choose a new password of at least 12 characters and confirm it.",
            "Sign in with the new password; your other sessions are signed out automatically.",
        ],
        "causes": [
            "a link scanner in the mail gateway opened the link before you did",
            "you requested several emails and clicked a link from an older one",
            "the workspace uses SSO, so passwords cannot be reset here",
            "your company mail server rejects messages from no-reply addresses",
            "the account is still locked after too many failed attempts",
        ],
        "faq": [
            ("Can an admin reset my password for me?",
             "Admins cannot see or set passwords, but they can send you a new reset link from <strong>Admin Center "
             "&gt; Members</strong>."),
            ("Why am I still locked out after resetting?",
             "The lock lasts 15 minutes even after a reset. Wait until it expires and sign in with your new password."),
        ],
        "terms": {"path": "Sign-in page &gt; Forgot password?", "thing": "password reset flow",
                  "artifact": "time you requested the reset email"},
        "articles": [
            ("Resetting your password", "howto"),
            ("The password reset email never arrives", "troubleshoot"),
        ],
    },
    {
        "key": "billing_invoices",
        "name": "Invoices and charges",
        "group": "billing",
        "tags": ["billing", "invoice"],
        "slots": {},
        "problems": [
            (
                ["Charged twice this month", "Duplicate charge on invoice {inv}", "double charge??"],
                "We were charged twice for invoice {inv} ({amount}). Our card statement shows two identical payments "
                "on the same day. Please refund the duplicate.",
                [
                    "Our credit card was billed two times for {inv}, both {amount}, on the same date. Can you reverse "
                    "the extra payment?",
                    "Double payment: invoice {inv} for {amount} was taken from our card twice. We need the duplicate "
                    "charge refunded.",
                ],
            ),
            (
                ["Invoice shows wrong number of seats", "Billed for {seats} seats?"],
                "Our latest invoice {inv} bills us for {seats} seats but we only have {seats_real} active users. We "
                "removed people last month. Why are we still paying for them?",
                [
                    "Invoice {inv} charges {seats} seats while only {seats_real} users are active on our account. The "
                    "removed members seem to still be billed.",
                    "We're paying for {seats} licenses on {inv}, but there are just {seats_real} active people after "
                    "we deactivated some users last month.",
                ],
            ),
            (
                ["Need invoice with our VAT number", "Change billing address on invoices"],
                "Our finance department needs invoice {inv} reissued with our VAT ID and the new company address. "
                "The current invoice still shows the old address.",
                [
                    "Could you reissue {inv} with the correct billing address and our VAT number? Accounting can't "
                    "process it with the old address on it.",
                    "The invoice {inv} has our outdated address and no VAT ID; finance requires a corrected copy.",
                ],
            ),
        ],
        "details": [
            "We pay by credit card on a monthly plan.",
            "Our account owner left the company, so I'm now handling billing.",
            "We're on the Professional plan, billed annually.",
            "The PDF on the billing page shows the same thing.",
        ],
        "tried": [
            "I checked the billing page but couldn't find an option to change it.",
            "Our bank confirmed both transactions went through.",
        ],
        "questions": [
            "How do I download my invoices?",
            "How do I add a VAT number to my invoices?",
            "Why does my invoice show more seats than active users?",
        ],
        "facts": [
            "Invoices are issued on the first day of each billing period and are available as PDF under "
            "<strong>Admin Center &gt; Billing &gt; Invoices</strong>.",
            "Only the account owner and members with the Billing admin role can see invoices and change payment details.",
            "Seats are billed for every member who was active at any point during the billing period, so removing a "
            "user takes effect on the next invoice.",
            "Adding seats in the middle of a period creates a prorated charge for the remaining days.",
            "You can add a VAT or GST number, a purchase order number and a separate billing email under "
            "<strong>Billing details</strong>; changes apply to future invoices.",
            "A temporary authorization hold from your bank may look like a second charge; holds disappear within "
            "five to seven business days.",
            "Annual plans are invoiced once a year, while seat increases during the year are invoiced monthly in arrears.",
            "Past invoices can be reissued with corrected billing details on request, as long as they are less than "
            "twelve months old.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Billing &gt; Invoices</strong>.",
            "Find the invoice by number or date and click <strong>Download PDF</strong>.",
            "To change details on future invoices, open <strong>Billing details</strong> and click <strong>Edit</strong>.",
            "Enter the VAT number, company address and billing email, then click <strong>Save</strong>.",
            "To request a reissued invoice, click <strong>Request correction</strong> next to the invoice.",
        ],
        "causes": [
            "deactivated members were still active at some point during the billing period",
            "an authorization hold from the bank is shown next to the real payment",
            "two workspaces are billed to the same card",
            "the billing details were changed after the invoice had already been issued",
            "a prorated charge for added seats was issued separately from the regular invoice",
        ],
        "faq": [
            ("Can I pay by bank transfer?",
             "Yes, annual plans over 5,000&nbsp;USD can be paid by bank transfer. Contact us to switch the payment method."),
            ("Why is there a charge I don't recognize?",
             "It is most often a prorated charge for seats added mid-period. The invoice PDF lists each line item with dates."),
        ],
        "terms": {"path": "Admin Center &gt; Billing &gt; Invoices", "thing": "billing details",
                  "artifact": "invoice number"},
        "articles": [
            ("Updating your payment method and billing details", "howto"),
            ("Understanding your invoice: seats, proration & taxes", "guide"),
            ("Why was I charged twice?", "troubleshoot"),
        ],
    },
    {
        "key": "refunds",
        "name": "Refunds and cancellations",
        "group": "billing",
        "tags": ["billing", "refund"],
        "slots": {},
        "problems": [
            (
                ["Request refund after cancellation", "Refund for unused time"],
                "We cancelled our subscription {when} and would like a refund for the remaining months of the annual "
                "plan. We paid {amount} upfront in {month}.",
                [
                    "Since we cancelled the plan {when2}, we'd like the unused part of our annual payment of {amount} "
                    "(paid in {month}) refunded.",
                    "Our subscription is cancelled now. Please refund the remaining months of the yearly plan we "
                    "prepaid, {amount} back in {month}.",
                ],
            ),
            (
                ["Auto-renewal charge - please refund", "We didn't want to renew"],
                "Our plan renewed automatically and we were charged {amount}, but we had decided not to continue. "
                "Nobody got a reminder email before the renewal. Can we get this refunded?",
                [
                    "The subscription auto-renewed and took {amount} from our card even though we no longer want the "
                    "service. We never saw a renewal reminder. Is a refund possible?",
                    "We were billed {amount} for a renewal we didn't intend; no reminder arrived beforehand. "
                    "Requesting a refund of that charge.",
                ],
            ),
            (
                ["How to downgrade our plan", "Downgrade from {plan_from} to {plan_to}"],
                "We want to move from the {plan_from} plan to {plan_to} at the end of the current period. Where can I "
                "do that and do we get credit for the difference?",
                [
                    "I'd like to switch our subscription down from {plan_from} to {plan_to} when the current term "
                    "ends. How do I do that, and is the price difference credited?",
                    "Looking to downgrade {plan_from} -> {plan_to} at renewal. Where is the option and will we be "
                    "credited for the difference?",
                ],
            ),
        ],
        "details": [
            "Budget cuts on our side, unfortunately.",
            "We moved to a different tool for most teams.",
            "Our account owner is on leave, so I'm handling this.",
        ],
        "tried": [
            "I couldn't find a refund button on the billing page.",
        ],
        "questions": [
            "Can I get a refund if I cancel my annual plan?",
            "How do I cancel my subscription?",
            "How do I downgrade to a cheaper plan?",
        ],
        "facts": [
            "Monthly plans can be cancelled at any time and stay active until the end of the paid month; we don't "
            "issue partial refunds for monthly plans.",
            "Annual plans can be refunded pro rata within the first 30 days after purchase or renewal.",
            "We send a renewal reminder to the account owner and the billing contacts 30 days and 7 days before an "
            "annual plan renews.",
            "Refunds go back to the original payment method and usually appear on your statement within 5 to 10 "
            "business days.",
            "Downgrading takes effect at the start of the next billing period; features of the higher plan stay "
            "available until then.",
            "When you cancel, your data is kept for 90 days so you can reactivate the workspace without losing anything.",
            "Credits from a downgrade are applied to future invoices rather than paid out.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Billing &gt; Subscription</strong>.",
            "Click <strong>Change plan</strong> to downgrade, or <strong>Cancel subscription</strong> to cancel.",
            "Choose a reason and confirm; you'll see the date on which the change takes effect.",
            "To request a refund for an annual plan within 30 days, click <strong>Request refund</strong> on the invoice.",
            "Watch for the confirmation email sent to the account owner.",
        ],
        "causes": [
            "the refund request was made more than 30 days after the renewal",
            "the renewal reminder went to a former employee who was still listed as billing contact",
            "the plan is monthly, so the remaining days are not refundable",
            "the refund was issued but the bank has not posted it yet",
        ],
        "faq": [
            ("Can I get a refund for a monthly plan?",
             "No, but you can cancel at any time and you won't be charged again."),
            ("What happens to my data when I cancel?",
             "It is kept for 90 days, after which it is permanently deleted."),
        ],
        "terms": {"path": "Admin Center &gt; Billing &gt; Subscription", "thing": "subscription",
                  "artifact": "invoice number and the date of the charge"},
        "articles": [
            ("Refund policy", "faq"),
            ("Cancelling or downgrading your subscription", "howto"),
            ("Refunds for annual plans", "troubleshoot"),
        ],
    },
    {
        "key": "api_rate_limits",
        "name": "API rate limits",
        "group": "technical",
        "tags": ["api", "rate_limit"],
        "slots": {
            "endpoint": ["/api/v2/projects", "/api/v2/users", "/api/v2/search", "/api/v2/tasks/bulk",
                         "/api/v2/reports/export"],
            "rate": [
                ("about 300 requests per minute", "roughly 5 calls a second"),
                ("maybe 100 requests per minute", "around a hundred calls each minute"),
                ("only 20 requests per minute", "just 20 calls a minute"),
                ("around 1,000 requests per minute", "close to a thousand calls every minute"),
            ],
            "lang": ["Python", "Node.js", "Java", "Go", "C#"],
        },
        "problems": [
            (
                ["Getting 429 Too Many Requests", "API rate limit hit at low volume", "HTTP 429 on {endpoint}"],
                "Our integration keeps getting HTTP 429 Too Many Requests from {endpoint} {when}, even though we only "
                "send {rate}. The Retry-After header says 60 seconds.",
                [
                    "{When2}, calls to {endpoint} are answered with 429 Too Many Requests although our traffic is "
                    "{rate2}. Retry-After is set to 60 seconds.",
                    "We're being rate limited (HTTP 429) on {endpoint} despite sending only {rate2}; it has been "
                    "happening {when2}.",
                ],
            ),
            (
                ["Request to increase API rate limit", "Need higher API limits for migration"],
                "We are migrating about {records} records into our account using a {lang} script and the rate limit "
                "makes it take days. Is it possible to raise the API limit temporarily?",
                [
                    "Can you temporarily lift our API rate limit? We need to import roughly {records} records with a "
                    "{lang} script and at the current limit it would take several days.",
                    "Our {lang} migration of about {records} records is throttled by the API limits. We'd like a "
                    "temporary limit increase.",
                ],
            ),
            (
                ["429 errors without Retry-After header", "Throttling on {endpoint}"],
                "Requests to {endpoint} fail with 429 in bursts, and the response has no Retry-After header, so our "
                "{lang} client retries immediately and makes it worse. How long should we wait?",
                [
                    "When we get 429s from {endpoint} there is no Retry-After header in the response, so our {lang} "
                    "client has no idea how long to back off and retries instantly.",
                    "Burst of HTTP 429 on {endpoint}, response missing Retry-After. What backoff should our {lang} "
                    "integration use?",
                ],
            ),
        ],
        "details": [
            "We only have this one integration using the API as far as I know.",
            "The requests come from a single worker, not in parallel.",
            "This is blocking our nightly sync job.",
            "We're using an API token created by an admin.",
        ],
        "tried": [
            "We added a sleep of one second between calls but still get throttled.",
            "I regenerated the API token, no difference.",
        ],
        "questions": [
            "What are the API rate limits?",
            "How should my integration handle 429 Too Many Requests responses?",
            "How can I import a large number of records through the API without hitting limits?",
        ],
        "facts": [
            "Every workspace can make up to 700 API requests per minute; Enterprise workspaces can buy an add-on that "
            "raises this to 2,500 requests per minute.",
            "Some endpoints have their own stricter limits: search allows 100 requests per minute and bulk endpoints "
            "allow 30 jobs per minute.",
            "When you exceed a limit, the API responds with HTTP 429 Too Many Requests and a <code>Retry-After</code> "
            "header that tells you how many seconds to wait.",
            "Each response includes <code>X-Rate-Limit</code> and <code>X-Rate-Limit-Remaining</code> headers so you "
            "can slow down before you hit the limit.",
            "Limits are counted per workspace, not per API token, so all integrations in the same workspace share "
            "the same budget.",
            "For large imports, bulk endpoints accept up to 100 records per request, which uses the limit far more "
            "efficiently than single-record calls.",
            "Temporary limit increases for migrations can be requested at least five business days in advance.",
            "Use exponential backoff with jitter when retrying, starting at one second and capping at 60 seconds.",
        ],
        "steps": [
            "Read the <code>X-Rate-Limit-Remaining</code> header on every response.",
            "When it drops below 10% of the limit, slow your request rate down.",
            "On a 429 response, wait for the number of seconds in <code>Retry-After</code> before retrying.",
            "If the header is missing, back off exponentially: 1, 2, 4, 8 seconds and so on, up to 60 seconds.",
            "Batch writes with the bulk endpoints, for example <code>POST /api/v2/tasks/bulk</code>.",
            "Check <strong>Admin Center &gt; Apps &amp; API &gt; Usage</strong> to see which integration uses the "
            "most requests.",
        ],
        "causes": [
            "another integration in the same workspace uses most of the shared budget",
            "the client retries immediately instead of honouring Retry-After",
            "the search endpoint is polled in a loop, and it has a lower limit",
            "requests are sent in parallel from several worker processes",
            "single-record calls are used where a bulk endpoint would do",
        ],
        "faq": [
            ("Are limits per token or per workspace?",
             "Per workspace. All tokens and OAuth apps in a workspace share the same limit."),
            ("Can I get a higher limit?",
             "Enterprise workspaces can buy the High Volume API add-on. Temporary increases for migrations are free "
             "on request."),
        ],
        "terms": {"path": "Admin Center &gt; Apps &amp; API &gt; Usage", "thing": "API usage",
                  "artifact": "request IDs from the X-Request-Id response header"},
        "articles": [
            ("API rate limits and how to handle 429 responses", "guide"),
            ("Best practices for bulk API requests", "howto"),
        ],
    },
    {
        "key": "webhooks",
        "name": "Webhooks",
        "group": "technical",
        "tags": ["api", "webhooks"],
        "slots": {
            "event": ["task.created", "project.updated", "user.deactivated", "comment.added"],
            "target": [
                ("our endpoint on AWS", "our AWS-hosted receiver"),
                ("our n8n workflow", "the n8n workflow we use"),
                ("a Zapier hook", "our Zapier catch hook"),
                ("our internal service", "an internal endpoint of ours"),
            ],
            "status": ["401 Unauthorized", "500 Internal Server Error", "timeout", "SSL handshake error"],
        },
        "problems": [
            (
                ["Webhooks failing with {status}", "Webhook deliveries not arriving"],
                "Our webhook for {event} stopped being delivered to {target} {when}. The delivery log in the admin "
                "shows {status} for each attempt, but the endpoint is up and we can call it with curl.",
                [
                    "{When2} the {event} webhook no longer reaches {target2}. In the delivery log every attempt is "
                    "marked {status}, yet the endpoint responds fine when we test it manually.",
                    "Webhook deliveries of {event} to {target2} fail with {status} {when2}, although the receiver is "
                    "reachable from outside.",
                ],
            ),
            (
                ["Webhook was disabled automatically", "Why did our webhook get deactivated?"],
                "We just noticed that our {event} webhook to {target} was switched off. Nobody on our side disabled "
                "it. We missed a lot of events. Can you re-send them?",
                [
                    "Our {event} webhook pointing to {target2} got deactivated without anyone here doing it, and we've "
                    "lost events. Is there a way to replay the missed deliveries?",
                    "The webhook for {event} was turned off by itself and {target2} stopped getting events. How can we "
                    "recover what we missed?",
                ],
            ),
            (
                ["Webhook signature doesn't match", "Can't verify webhook signature"],
                "We're trying to verify the X-Signature header on {event} webhooks in {target}, but our computed HMAC "
                "never matches. We use the signing secret from the webhook settings.",
                [
                    "Our HMAC check of the webhook X-Signature header fails for every {event} delivery to {target2}, "
                    "even though we use the signing secret shown in the settings.",
                    "Signature validation of incoming {event} webhooks doesn't work: the HMAC we calculate in "
                    "{target2} is always different from the header.",
                ],
            ),
        ],
        "details": [
            "Our endpoint answers within a second when we test it.",
            "We didn't deploy anything on our side this week.",
            "The same setup works fine in our sandbox workspace.",
        ],
        "tried": [
            "We sent a test event from the settings page and it also failed.",
            "I recreated the webhook with a new secret.",
        ],
        "questions": [
            "How do I set up a webhook?",
            "Why are my webhook deliveries failing?",
            "How do I verify the webhook signature?",
        ],
        "facts": [
            "Webhooks send an HTTP POST request with a JSON payload to your endpoint whenever a subscribed event "
            "happens, such as <code>task.created</code> or <code>user.deactivated</code>.",
            "Your endpoint must respond with a 2xx status code within 10 seconds; anything else counts as a failed "
            "delivery.",
            "Failed deliveries are retried up to 8 times with exponential backoff over roughly 24 hours.",
            "If more than 95% of deliveries fail over 24 hours, the webhook is deactivated automatically and the "
            "admins are notified by email.",
            "Every request carries an <code>X-Signature</code> header: an HMAC-SHA256 of the raw request body, "
            "computed with the webhook's signing secret.",
            "The delivery log under <strong>Admin Center &gt; Apps &amp; API &gt; Webhooks</strong> keeps the status "
            "code and response time of every attempt for 7 days.",
            "Deliveries from the last 72 hours can be replayed from the delivery log once the webhook is active again.",
            "Requests come from a fixed set of IP addresses listed on our status page, so you can allow them in your "
            "firewall.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Apps &amp; API &gt; Webhooks</strong> and click <strong>Create "
            "webhook</strong>.",
            "Enter the endpoint URL; it must use HTTPS with a valid certificate.",
            "Select the events you want to subscribe to.",
            "Copy the signing secret and store it in your application.",
            "Click <strong>Send test</strong> and confirm that your endpoint answers with 200&nbsp;OK.",
        ],
        "causes": [
            "the endpoint takes longer than 10 seconds to answer",
            "the signature is computed over parsed and re-serialized JSON instead of the raw body",
            "the TLS certificate of the endpoint expired or lacks an intermediate certificate",
            "a firewall blocks our delivery IP addresses",
            "the endpoint requires authentication that the webhook is not configured to send",
        ],
        "faq": [
            ("Can I replay missed events?",
             "Yes, deliveries from the last 72 hours can be replayed from the delivery log."),
            ("Is the order of deliveries guaranteed?",
             "No. Use the <code>occurred_at</code> timestamp in the payload to order events."),
        ],
        "terms": {"path": "Admin Center &gt; Apps &amp; API &gt; Webhooks", "thing": "webhook",
                  "artifact": "delivery ID from the delivery log"},
        "articles": [
            ("Configuring webhooks", "howto"),
            ("Webhook deliveries failing or delayed", "troubleshoot"),
            ("Verifying webhook signatures", "faq"),
        ],
    },
    {
        "key": "data_export",
        "name": "Data export",
        "group": "technical",
        "tags": ["export", "data"],
        "slots": {
            "fmt": ["CSV", "Excel", "JSON"],
            "what": [
                ("all projects and tasks", "every project with its tasks"),
                ("the time tracking report", "our time tracking data"),
                ("the full user list", "the list of all members"),
                ("comments and attachments", "all comments including files"),
            ],
            "size": [
                ("about 2 GB of data", "roughly two gigabytes of data"),
                ("around 800,000 rows", "close to 800k rows"),
                ("5 years of history", "history going back five years"),
            ],
        },
        "problems": [
            (
                ["Export file is empty", "{fmt} export has no data"],
                "I exported {what} as {fmt} and the downloaded file only contains the header row. There is definitely "
                "data in the account.",
                [
                    "When exporting {what2} to {fmt}, the file I download has just the column headers and no rows, "
                    "although our account is full of data.",
                    "Our {fmt} export of {what2} comes out empty apart from the header line.",
                ],
            ),
            (
                ["Export stuck at Processing", "Data export never finishes"],
                "The export of {what} has been stuck in \"Processing\" {when}. Our account has {size}. We need this "
                "for an audit.",
                [
                    "The {what2} export shows Processing and hasn't completed {when2}; we have {size2} and need the "
                    "file for an audit.",
                    "Exporting {what2} never finishes, it just stays on Processing {when2}. Our data volume is {size2}.",
                ],
            ),
            (
                ["Export has broken characters", "Umlauts garbled in {fmt} export"],
                "In the {fmt} export of {what}, names with accents and umlauts show up as weird symbols like "
                "\"M\u00c3\u00bcller\" instead of \"M\u00fcller\".",
                [
                    "Special characters come out garbled in our {fmt} export of {what2}: \"M\u00fcller\" becomes "
                    "\"M\u00c3\u00bcller\", accented names are broken.",
                    "Accents and umlauts are corrupted when we export {what2} as {fmt}, e.g. M\u00fcller shows as "
                    "M\u00c3\u00bcller.",
                ],
            ),
        ],
        "details": [
            "We need the data for our annual audit.",
            "I'm an admin on the account.",
            "We tried with a smaller date range too.",
        ],
        "tried": [
            "I started the export again from scratch.",
            "I tried a different browser to download the file.",
        ],
        "questions": [
            "How do I export all of my data?",
            "Why is my export file empty?",
            "Can I schedule a regular export to S3?",
        ],
        "facts": [
            "Admins can export workspace data from <strong>Admin Center &gt; Data &gt; Export</strong> in CSV, Excel "
            "(XLSX) or JSON format.",
            "Exports run in the background; you get an email with a download link when the file is ready, and the "
            "link stays valid for 7 days.",
            "Large exports are split into ZIP archives of up to 2&nbsp;GB each.",
            "CSV files are encoded as UTF-8 with a byte order mark; older versions of Excel may still need the file "
            "to be imported via <strong>Data &gt; From Text/CSV</strong> to show accents correctly.",
            "The export only contains data that the admin who started it is allowed to see, so private projects of "
            "other teams may be missing.",
            "Full exports including attachments are available on the Professional and Enterprise plans.",
            "Only one full export can run at a time per workspace; starting a new one cancels the running export.",
            "Scheduled exports can deliver a daily or weekly file to an S3 bucket or an SFTP server.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Data &gt; Export</strong>.",
            "Choose what to export and select the date range; leave it empty to export everything.",
            "Pick the format: CSV, Excel or JSON.",
            "Click <strong>Start export</strong>. You can close the page while the export runs.",
            "Open the email <em>Your export is ready</em> and download the file within 7&nbsp;days.",
        ],
        "causes": [
            "the date range filter excludes all records",
            "the admin who started the export has no access to private projects",
            "a second export was started and cancelled the first one",
            "Excel opened the UTF-8 file with the wrong encoding",
            "the download link expired after 7 days",
        ],
        "faq": [
            ("Can I export data through the API?",
             "Yes, <code>POST /api/v2/reports/export</code> starts the same export job and returns a job ID you can poll."),
            ("Are deleted items included?",
             "No, items in the trash are not exported. Restore them first if you need them."),
        ],
        "terms": {"path": "Admin Center &gt; Data &gt; Export", "thing": "data export",
                  "artifact": "export job ID from the confirmation email"},
        "articles": [
            ("Export file is empty or incomplete", "troubleshoot"),
            ("Exporting your data: the complete guide", "guide"),
        ],
    },
    {
        "key": "mobile_crash",
        "name": "Mobile app crashes",
        "group": "technical",
        "tags": ["mobile", "crash"],
        "slots": {
            "device": [
                ("iPhone 13 with iOS 17.4", "iOS 17.4 on an iPhone 13"),
                ("iPhone 15 Pro, iOS 18.1", "iOS 18.1 / iPhone 15 Pro"),
                ("Samsung Galaxy S23 on Android 14", "Android 14 Galaxy S23"),
                ("Pixel 7 (Android 15)", "Google Pixel 7 with Android 15"),
                ("iPad Air, iPadOS 17", "iPadOS 17 on an iPad Air"),
            ],
            "action": [
                ("open a project", "opening a project"),
                ("upload a photo", "uploading a photo"),
                ("switch workspaces", "switching between workspaces"),
                ("open a task from a push notification", "tapping a push notification for a task"),
            ],
        },
        "problems": [
            (
                ["App crashes when I try to {action}", "Mobile app keeps crashing", "app crash"],
                "The mobile app ({version}) crashes every time I try to {action}. I'm on a {device}. It just closes "
                "without any error message.",
                [
                    "Version {version} of your app shuts down immediately when {action2}, no error shown. Device: "
                    "{device2}.",
                    "Every attempt at {action2} makes the app crash and close ({device2}, app version {version}).",
                ],
            ),
            (
                ["App won't open after update", "Crash on launch since {version}"],
                "After updating to {version} the app crashes right on the splash screen. {Device}. Reinstalling "
                "didn't help.",
                [
                    "Since the update to {version} the app dies at the splash screen on my {device2}; a reinstall made "
                    "no difference.",
                    "The app no longer starts after upgrading to {version}, it crashes while loading ({device2}), even "
                    "after reinstalling.",
                ],
            ),
            (
                ["App freezes and loses changes", "Offline changes lost on mobile"],
                "The app freezes for a few seconds and then closes when I come back online after working offline. "
                "Changes I made offline are gone. {Device}, app {version}.",
                [
                    "When my {device2} reconnects after offline work, the app freezes and crashes, and whatever I "
                    "edited offline disappears (app {version}).",
                    "Offline edits get lost: the app hangs and quits as soon as I'm back online. {Device2}, version "
                    "{version}.",
                ],
            ),
        ],
        "details": [
            "Several people on our team have the same problem.",
            "The web version works fine.",
            "My phone has plenty of free storage.",
            "It started right after the latest update.",
        ],
        "tried": [
            "I already deleted and reinstalled the app.",
            "Restarted the phone, same thing.",
        ],
        "questions": [
            "The mobile app crashes on startup, what can I do?",
            "How do I send a crash report from the mobile app?",
            "Which iOS and Android versions are supported?",
        ],
        "facts": [
            "The mobile apps support iOS 16 or later and Android 10 or later; older versions may install but are "
            "not tested.",
            "Crashes right after an update are usually caused by cached data from the previous version; signing out "
            "and in again rebuilds the cache.",
            "You can send us a diagnostic report from <strong>Settings &gt; Help &gt; Send diagnostics</strong>; it "
            "includes the crash log but no content from your workspace.",
            "Offline changes are stored on the device and synced when the connection returns; if the app is "
            "force-closed during sync, the latest changes can be lost.",
            "Low free storage (less than 500&nbsp;MB) causes the app to crash while loading attachments.",
            "Beta versions from TestFlight or the Google Play beta channel may contain known crashes that are already "
            "fixed in the next release.",
            "Release notes for every version are published in the app store listing and on our changelog page.",
        ],
        "steps": [
            "Make sure you are on the latest app version from the App Store or Google Play.",
            "Restart your device.",
            "In the app, go to <strong>Settings &gt; Storage</strong> and tap <strong>Clear cache</strong>.",
            "Sign out, then sign in again.",
            "If the app still crashes, send diagnostics from <strong>Settings &gt; Help &gt; Send diagnostics</strong> "
            "and mention the diagnostic ID in your ticket.",
        ],
        "causes": [
            "the device has less than 500 MB of free storage",
            "the cache from the previous app version is corrupted",
            "the app was force-closed while offline changes were syncing",
            "an MDM profile on the device restricts background data",
            "the operating system version is older than the minimum we support",
        ],
        "faq": [
            ("Will I lose data if I reinstall the app?",
             "Synced data is safe on our servers. Only changes that were made offline and not yet synced are lost."),
            ("How do I find my app version?", "Open <strong>Settings &gt; About</strong> in the app."),
        ],
        "terms": {"path": "Settings &gt; Help &gt; Send diagnostics", "thing": "mobile app",
                  "artifact": "diagnostic ID"},
        "articles": [
            ("Mobile app crashes on launch or when opening items", "troubleshoot"),
            ("Reporting a mobile app bug with diagnostics", "howto"),
        ],
    },
    {
        "key": "email_notifications",
        "name": "Email notifications",
        "group": "technical",
        "tags": ["notifications", "email"],
        "slots": {
            "notif": [
                ("task assignment emails", "emails when a task is assigned"),
                ("the daily digest", "the daily summary email"),
                ("mention notifications", "emails when someone mentions us"),
                ("due date reminders", "reminder emails for due dates"),
            ],
            "who": [
                ("our whole team", "everyone on our team"),
                ("some of our users", "a few of our members"),
                ("people with Outlook addresses", "users on Outlook"),
            ],
        },
        "problems": [
            (
                ["Not receiving email notifications", "{Notif} stopped"],
                "{Who} stopped receiving {notif} {when}. Notification settings look correct and nothing is in spam.",
                [
                    "{When2} {who2} no longer get {notif2}. Settings are unchanged and the spam folder is empty.",
                    "{Notif2} aren't arriving for {who2} {when2}; we checked the notification preferences and junk mail.",
                ],
            ),
            (
                ["Way too many notification emails", "How to reduce email notifications"],
                "{Who} get flooded with {notif}, sometimes dozens per hour. Is there a way to batch them or turn them "
                "off for everyone at once?",
                [
                    "{Who2} are overwhelmed by {notif2}, dozens every hour. Can we bundle them or disable them for the "
                    "entire workspace in one go?",
                    "The volume of {notif2} is far too high for {who2}. We'd like to reduce or group them for all users.",
                ],
            ),
            (
                ["Notifications land in spam", "Your emails go to junk folder"],
                "All {notif} end up in the spam folder for {who}. Our IT says your emails fail DMARC checks.",
                [
                    "{Notif2} are being filtered into junk for {who2}; our IT team says the messages fail DMARC.",
                    "For {who2}, {notif2} keep landing in spam. IT mentions a DMARC failure on your emails.",
                ],
            ),
        ],
        "details": [
            "We use Microsoft 365 with Defender.",
            "In-app notifications work fine.",
            "Nothing changed in our mail setup recently.",
        ],
        "tried": [
            "We checked the quarantine in our mail gateway.",
            "I turned the notifications off and on again in my profile.",
        ],
        "questions": [
            "How do I change which email notifications I receive?",
            "Why are notification emails going to spam?",
            "Can I get one daily summary instead of many emails?",
        ],
        "facts": [
            "Each member controls their own email notifications under <strong>Profile &gt; Notifications</strong>; "
            "admins can set workspace defaults under <strong>Admin Center &gt; Notifications</strong>.",
            "Notification emails are sent from <code>notifications@lumenhq.example</code> and are signed with SPF, DKIM "
            "and DMARC.",
            "If an email bounces three times in a row, we stop sending to that address and show a warning on the "
            "member's profile.",
            "The daily digest is sent at 8:00 in each member's time zone and only includes activity from the last 24 hours.",
            "Batching combines notifications for the same project into a single email every 15 minutes.",
            "Members who are active in the app at the time of an event receive an in-app notification instead of an email.",
            "Some corporate mail gateways quarantine messages with many links; ask IT to allow our sending domain.",
        ],
        "steps": [
            "Open <strong>Profile &gt; Notifications</strong>.",
            "Choose which events should send an email, an in-app notification or both.",
            "Turn on <strong>Batch email notifications</strong> to receive at most one email per project every 15 minutes.",
            "Check the <strong>Email status</strong> field; if it says <em>Suppressed</em>, click <strong>Resume "
            "emails</strong>.",
            "Ask your IT team to allow <code>notifications@lumenhq.example</code> in the mail gateway.",
        ],
        "causes": [
            "the address was suppressed after repeated bounces",
            "the member is active in the app, so in-app notifications replace emails",
            "a mail gateway quarantines our messages because they contain many links",
            "a workspace default overrides the member's personal settings",
            "a forwarding rule breaks the DKIM signature, which makes DMARC fail",
        ],
        "faq": [
            ("Can I turn off emails for everyone?",
             "Admins can change the workspace defaults. Members can still opt back in for themselves."),
            ("Why did my emails stop suddenly?",
             "The most common reason is suppression after bounces. Check the <strong>Email status</strong> on your profile."),
        ],
        "terms": {"path": "Profile &gt; Notifications", "thing": "notification settings",
                  "artifact": "email address that should receive notifications"},
        "articles": [
            ("Managing email notifications", "howto"),
            ("Notification emails going to spam or not arriving", "troubleshoot"),
            ("Daily digest settings", "faq"),
        ],
    },
    {
        "key": "slack_integration",
        "name": "Slack integration",
        "group": "integrations",
        "tags": ["integrations", "slack"],
        "slots": {
            "channel": ["#support-alerts", "#project-updates", "#dev-notifications", "#sales-team", "#ops"],
            "serr": ["invalid_team_for_non_distributed_app", "missing_scope", "access_denied"],
        },
        "problems": [
            (
                ["Slack notifications stopped", "Nothing posted to {channel} anymore"],
                "Our Slack integration stopped posting updates to {channel} {when}. The app still shows as connected "
                "in the settings.",
                [
                    "Updates don't show up in our Slack channel {channel} {when2} even though the integration says it's "
                    "still connected.",
                    "The Slack app no longer posts anything to {channel}, {when2}, despite showing as connected.",
                ],
            ),
            (
                ["Can't connect Slack - {serr}", "Slack install fails"],
                "When I try to connect our Slack workspace I get \"{serr}\" after approving the permissions. I'm a "
                "Slack admin.",
                [
                    "Approving the Slack app permissions ends with the error \"{serr}\", so I can't link our Slack "
                    "workspace, and I do have admin rights in Slack.",
                    "Connecting Slack fails: right after the OAuth approval it says \"{serr}\" (I'm an admin on the "
                    "Slack side).",
                ],
            ),
            (
                ["Private Slack channel not in the list", "Can't select private channel in Slack integration"],
                "I want the integration to post to our private channel {channel} but it doesn't appear in the channel "
                "dropdown. Public channels show up fine.",
                [
                    "Our private Slack channel {channel} is missing from the channel picker of the integration, while "
                    "public channels are listed.",
                    "The Slack integration's channel dropdown only has public channels; {channel} (private) can't be "
                    "selected.",
                ],
            ),
        ],
        "details": [
            "The person who originally connected Slack left the company recently.",
            "We're on Slack Enterprise Grid.",
            "Other Slack apps work normally.",
        ],
        "tried": [
            "I disconnected and reconnected the integration.",
        ],
        "questions": [
            "How do I connect Slack?",
            "Why did the Slack integration stop posting messages?",
            "How can I post updates to a private Slack channel?",
        ],
        "facts": [
            "The Slack integration posts updates from projects to Slack channels and lets people create tasks from "
            "Slack messages with the <code>/lumen</code> command.",
            "A Slack workspace admin must approve the app the first time it is connected.",
            "Private channels only appear in the channel list after you invite the app to the channel with "
            "<code>/invite @Lumen</code>.",
            "If the person who connected Slack leaves your company and their account is deactivated, the connection "
            "stops posting until another admin reconnects it.",
            "Slack Enterprise Grid organizations must install the app at the organization level first.",
            "Each project can post to up to five Slack channels, with a separate filter for each channel.",
            "The integration needs the <code>chat:write</code>, <code>channels:read</code> and <code>groups:read</code> "
            "scopes.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Integrations &gt; Slack</strong> and click <strong>Connect</strong>.",
            "Sign in to Slack and approve the requested permissions.",
            "For private channels, run <code>/invite @Lumen</code> in the channel first.",
            "Back in the project settings, open <strong>Slack</strong> and pick the channel.",
            "Choose which events to post and click <strong>Save</strong>.",
        ],
        "causes": [
            "the Slack user who connected the integration was deactivated",
            "the app was not invited to the private channel",
            "the Slack app was removed by a Slack admin during a cleanup",
            "the Enterprise Grid organization has not approved the app",
            "the channel was renamed or archived",
        ],
        "faq": [
            ("Who can connect Slack?",
             "Workspace admins. On the Slack side, installing may require approval by a Slack admin."),
            ("Can I post to a shared Slack Connect channel?",
             "Yes, as long as the app is invited to the channel from your Slack workspace."),
        ],
        "terms": {"path": "Admin Center &gt; Integrations &gt; Slack", "thing": "Slack integration",
                  "artifact": "Slack workspace URL and channel name"},
        "articles": [
            ("Connecting the Slack app", "howto"),
            ("Slack messages stopped posting", "troubleshoot"),
        ],
    },
    {
        "key": "salesforce_integration",
        "name": "Salesforce integration",
        "group": "integrations",
        "tags": ["integrations", "salesforce"],
        "slots": {
            "obj": ["Accounts", "Opportunities", "Contacts", "Cases"],
            "serr": ["INVALID_FIELD", "REQUIRED_FIELD_MISSING", "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                     "INVALID_SESSION_ID"],
        },
        "problems": [
            (
                ["Salesforce sync error {serr}", "Salesforce sync failing"],
                "The Salesforce sync fails for {obj} with {serr} {when}. The sync log shows hundreds of failed records.",
                [
                    "{When2} syncing {obj} to Salesforce errors out with {serr}; there are hundreds of failed records "
                    "in the sync log.",
                    "Our Salesforce integration can't sync {obj} anymore, every record fails with {serr} ({when2}).",
                ],
            ),
            (
                ["Salesforce integration disconnected", "Salesforce keeps disconnecting"],
                "Our Salesforce connection keeps dropping and we have to re-authenticate every few days. {obj} stop "
                "syncing until someone reconnects.",
                [
                    "We have to reconnect Salesforce every couple of days because the connection drops, and {obj} "
                    "don't sync in the meantime.",
                    "The Salesforce link keeps getting disconnected; {obj} sync stops until we re-authorize it again.",
                ],
            ),
            (
                ["Custom field not available in mapping", "Can't map Salesforce custom field"],
                "I created a custom field on {obj} in Salesforce but it doesn't show up in the field mapping screen of "
                "the integration.",
                [
                    "A new custom field we added to Salesforce {obj} is not offered in the integration's field mapping.",
                    "The field mapping page doesn't list the custom field on {obj} that we created in Salesforce.",
                ],
            ),
        ],
        "details": [
            "Our Salesforce admin changed some validation rules recently.",
            "We use a dedicated integration user in Salesforce.",
            "We're on Salesforce Enterprise edition.",
        ],
        "tried": [
            "We reconnected the integration with a Salesforce admin account.",
            "I clicked Refresh schema, nothing changed.",
        ],
        "questions": [
            "How do I connect Salesforce?",
            "How do I fix Salesforce sync errors?",
            "Which Salesforce editions are supported?",
        ],
        "facts": [
            "The Salesforce integration syncs Accounts, Contacts, Opportunities and Cases in both directions every "
            "10 minutes.",
            "It requires Salesforce Enterprise, Unlimited or Performance edition with API access enabled.",
            "The connecting Salesforce user needs the <em>API Enabled</em> and <em>View All Data</em> permissions; we "
            "recommend a dedicated integration user.",
            "New custom fields appear in the mapping after you click <strong>Refresh schema</strong>, and only if the "
            "integration user has field-level access to them.",
            "Validation rules in Salesforce also apply to synced records, so a rule that requires a field we don't map "
            "makes the sync fail with FIELD_CUSTOM_VALIDATION_EXCEPTION.",
            "If your Salesforce org sets a short session timeout or revokes refresh tokens, the connection must be "
            "re-authorized frequently.",
            "Sync errors are listed under <strong>Admin Center &gt; Integrations &gt; Salesforce &gt; Sync log</strong> "
            "with the Salesforce error code for each record.",
            "Each sync uses Salesforce API calls from your org's daily allowance; large orgs should check the remaining "
            "allowance in Salesforce Setup.",
        ],
        "steps": [
            "In Salesforce, create an integration user with the <em>API Enabled</em> permission.",
            "Go to <strong>Admin Center &gt; Integrations &gt; Salesforce</strong> and click <strong>Connect</strong>.",
            "Sign in as the integration user and allow access.",
            "Open <strong>Field mapping</strong>, click <strong>Refresh schema</strong> and map the fields you need.",
            "Start the first sync and check the <strong>Sync log</strong> for errors.",
        ],
        "causes": [
            "the refresh token policy of the connected app is set to expire",
            "a Salesforce validation rule requires a field that is not mapped",
            "the integration user lacks field-level security access to the custom field",
            "the mapped field was deleted or renamed in Salesforce",
            "the org's daily API request allowance was used up",
        ],
        "faq": [
            ("Does the sync work with Salesforce Professional edition?",
             "Only if API access was purchased for it. Enterprise edition and above include it."),
            ("How often does the sync run?",
             "Every 10 minutes, and you can trigger a manual sync from the integration page."),
        ],
        "terms": {"path": "Admin Center &gt; Integrations &gt; Salesforce", "thing": "Salesforce integration",
                  "artifact": "Salesforce error code and record ID from the sync log"},
        "articles": [
            ("Fixing Salesforce sync errors", "troubleshoot"),
            ("Salesforce integration guide", "guide"),
        ],
    },
    {
        "key": "shipping_orders",
        "name": "Shipping and orders",
        "group": "logistics",
        "tags": ["shipping", "orders"],
        "slots": {
            "item": [
                ("the badge scanners", "our badge scanner order"),
                ("two Lumen Hub devices", "the pair of Lumen Hubs"),
                ("the printed starter kits", "our starter kit boxes"),
                ("replacement charging docks", "the spare charging docks"),
            ],
            "carrier": ["UPS", "DHL", "FedEx", "DPD"],
            "days": [("10 days ago", "ten days back"), ("two weeks ago", "a fortnight ago"),
                     ("last Tuesday", "on Tuesday last week")],
        },
        "problems": [
            (
                ["Order {order} not delivered", "Where is my order?", "order {order}"],
                "We ordered {item} {days} (order {order}) and still haven't received anything. The {carrier} "
                "tracking hasn't updated for days.",
                [
                    "Order {order} for {item2}, placed {days2}, still hasn't shown up and the {carrier} tracking has "
                    "been stuck for several days.",
                    "Nothing delivered yet for {order} ({item2}, ordered {days2}). {carrier} tracking shows no movement.",
                ],
            ),
            (
                ["Damaged items in order {order}", "Package arrived damaged"],
                "{Item} from order {order} arrived today but the box was crushed and one unit doesn't turn on. "
                "Delivered by {carrier}. I have photos.",
                [
                    "Our shipment {order} ({item2}) came in a crushed box via {carrier} and one of the units is dead "
                    "on arrival. Photos available.",
                    "Received {item2} for order {order} damaged: the {carrier} package was crushed and a unit won't "
                    "power on.",
                ],
            ),
            (
                ["Change shipping address for {order}", "Wrong delivery address on order"],
                "I entered the wrong shipping address for order {order} ({item}). Can you change it before it ships? "
                "It should go to our warehouse instead.",
                [
                    "Order {order} with {item2} has an incorrect delivery address; please update it to our warehouse "
                    "before dispatch.",
                    "Can the shipping address on {order} be corrected? We put the wrong one in, {item2} should go to "
                    "the warehouse.",
                ],
            ),
        ],
        "details": [
            "We need them for an event next week.",
            "Our receiving dock is open 8 to 4 on weekdays.",
            "The order confirmation email has the correct items.",
        ],
        "tried": [
            "I called {carrier} but they told me to contact the sender.",
        ],
        "questions": [
            "How can I track my order?",
            "What do I do if my package arrived damaged?",
            "Can I change the shipping address after ordering?",
        ],
        "facts": [
            "Hardware orders ship from our warehouses in Reno (US) and Rotterdam (EU) within two business days.",
            "You receive a tracking link by email as soon as the carrier picks up the package; tracking can take up "
            "to 24 hours to show the first scan.",
            "Shipping addresses can be changed until the order status is <em>Packed</em>; after that, the carrier has "
            "to redirect the package.",
            "If a package is damaged, take photos of the box and the items before you throw anything away and report "
            "it within 14 days of delivery.",
            "Missing packages are investigated with the carrier once tracking has not updated for five business days.",
            "Replacements for items damaged in transit ship free of charge, usually within three business days.",
            "Orders to countries outside the EU and US may be subject to customs duties, which are paid by the recipient.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Billing &gt; Orders</strong> and open the order.",
            "Check the status and the tracking link.",
            "To change the address, click <strong>Edit shipping address</strong> (only possible before the order is packed).",
            "To report damage or missing items, click <strong>Report a problem</strong> and attach photos.",
            "We confirm the replacement or refund by email within one business day.",
        ],
        "causes": [
            "the carrier has not scanned the package yet",
            "the address is missing a suite or floor number",
            "customs is holding the package for import duties",
            "the order was split into two shipments with separate tracking numbers",
            "the package was left at a pickup point",
        ],
        "faq": [
            ("Can I return hardware I don't need?",
             "Unused items in their original packaging can be returned within 30 days for a full refund."),
            ("Do you ship to PO boxes?", "No, our carriers need a street address."),
        ],
        "terms": {"path": "Admin Center &gt; Billing &gt; Orders", "thing": "order",
                  "artifact": "order number and photos of the package"},
        "articles": [
            ("Tracking your order", "howto"),
            ("Damaged or missing items in your shipment", "troubleshoot"),
            ("International shipping and customs", "faq"),
        ],
    },
    {
        "key": "performance",
        "name": "Performance and slowness",
        "group": "technical",
        "tags": ["performance"],
        "slots": {
            "page": [("the dashboard", "our dashboard"), ("the reports page", "reporting"),
                     ("large projects", "projects with many tasks"), ("search", "the search function")],
            "secs": [("30 seconds", "half a minute"), ("over a minute", "more than 60 seconds"),
                     ("10-15 seconds", "ten to fifteen seconds")],
            "browser": ["Chrome", "Firefox", "Edge", "Safari"],
        },
        "problems": [
            (
                ["{Page} extremely slow", "Everything is very slow today", "slow loading"],
                "{Page} takes {secs} to load {when}. It used to be instant. We're on {browser} on a fast office network.",
                [
                    "Loading {page2} now takes {secs2} {when2}, whereas before it was immediate. {browser}, good "
                    "office connection.",
                    "{Page2} has become really sluggish {when2}: about {secs2} per load in {browser} on a fast network.",
                ],
            ),
            (
                ["504 Gateway Timeout on reports", "Reports time out"],
                "Generating a report for the last 12 months fails with 504 Gateway Timeout after {secs}. Smaller date "
                "ranges work.",
                [
                    "Yearly reports die with a 504 gateway timeout after {secs2}, while shorter date ranges load fine.",
                    "A 12-month report never completes: 504 Gateway Timeout after {secs2}. Reports over smaller periods "
                    "are OK.",
                ],
            ),
            (
                ["Browser tab freezes", "App uses huge amounts of memory"],
                "{Page} freezes the browser tab in {browser} and the task manager shows the tab using 3 GB of memory. "
                "Happens for several people.",
                [
                    "The {browser} tab hangs on {page2} and eats around 3 GB of RAM according to the task manager; "
                    "multiple colleagues see it.",
                    "Using {page2} in {browser} makes the tab freeze with roughly 3 GB memory usage, not just for me.",
                ],
            ),
        ],
        "details": [
            "Your status page says all systems operational.",
            "It's the same on the guest wifi and on the office network.",
            "Colleagues in other offices report the same.",
        ],
        "tried": [
            "I cleared the cache and disabled extensions.",
            "Tried another browser, slightly better but still slow.",
        ],
        "questions": [
            "Why is the app so slow?",
            "What are the browser and network requirements?",
            "My reports time out, how can I run large reports?",
        ],
        "facts": [
            "Pages usually load in under two seconds; if they are much slower, check our status page first for "
            "ongoing incidents.",
            "Very large projects with more than 10,000 tasks load faster in list view with filters than in board view.",
            "Reports that cover more than six months are generated in the background; you receive an email when they "
            "are ready instead of waiting in the browser.",
            "Browser extensions such as ad blockers and privacy tools can slow down the app considerably; test in a "
            "private window without extensions.",
            "The app needs WebSocket connections to <code>realtime.lumenhq.example</code>; proxies that block "
            "WebSockets force a slower fallback.",
            "Hardware acceleration must be turned on in the browser for smooth scrolling in board and timeline views.",
            "We support the latest two versions of Chrome, Firefox, Safari and Edge on computers with at least "
            "8&nbsp;GB of RAM.",
        ],
        "steps": [
            "Check <a href=\"https://status.lumenhq.example\">status.lumenhq.example</a> for incidents.",
            "Open the app in a private window to rule out extensions.",
            "Run the connection test at <strong>Help &gt; Diagnostics &gt; Network test</strong>.",
            "Switch large projects to list view and add filters.",
            "For long reports, use <strong>Generate in background</strong>.",
            "Send us the HAR file of a slow page load if the problem continues.",
        ],
        "causes": [
            "a browser extension injects scripts into every page",
            "the corporate proxy blocks WebSockets",
            "a board view shows more than 10,000 tasks at once",
            "the report covers a long date range and runs in the browser",
            "hardware acceleration is turned off in the browser",
        ],
        "faq": [
            ("How do I record a HAR file?",
             "Open the developer tools, go to the Network tab, reload the page and choose <strong>Save all as "
             "HAR</strong>."),
            ("Is there a data center closer to us?",
             "Workspaces can be hosted in the US, the EU or Australia. Contact us to discuss a migration."),
        ],
        "terms": {"path": "Help &gt; Diagnostics &gt; Network test", "thing": "app performance",
                  "artifact": "HAR file of a slow page load"},
        "articles": [
            ("Dashboard and pages loading slowly", "troubleshoot"),
            ("Browser and network requirements", "faq"),
            ("Large reports time out", "howto"),
        ],
    },
    {
        "key": "permissions_roles",
        "name": "Permissions and roles",
        "group": "accounts",
        "tags": ["permissions", "roles"],
        "slots": {
            "who": [("a project manager", "one of our project managers"), ("a new team lead", "a recently promoted team lead"),
                    ("one of our contractors", "an external contractor"), ("a member of the HR team", "someone in HR")],
            "area": [("the Q3 roadmap project", "our Q3 roadmap project"), ("the time reports", "time tracking reports"),
                     ("the billing page", "billing"), ("the admin settings", "the admin center")],
            "role": ["Member", "Project admin", "Guest", "Viewer"],
        },
        "problems": [
            (
                ["User can't see project", "Permission error for {who}"],
                "{Who} with the {role} role can't see {area} even though we added them to the team. They get "
                "\"You don't have permission to view this page\".",
                [
                    "Even after being added to the team, {who2} (role: {role}) gets \"You don't have permission to "
                    "view this page\" when opening {area2}.",
                    "{Who2} can't access {area2}: \"You don't have permission to view this page\", with the {role} "
                    "role assigned.",
                ],
            ),
            (
                ["{role} can see things they shouldn't", "Permissions too broad for {role}"],
                "We noticed that {who} with the {role} role can see {area}, which should be restricted. How do we "
                "limit what this role can access?",
                [
                    "It turns out {who2} has access to {area2} with only the {role} role, and that should be locked "
                    "down. How can we restrict it?",
                    "Role {role} seems to give {who2} visibility into {area2}; we need to tighten those permissions.",
                ],
            ),
            (
                ["How to create a custom role", "Need a custom role"],
                "We need a role for {who} that can manage tasks but not see {area}. None of the default roles fit. Can "
                "we create a custom role?",
                [
                    "Is a custom role possible? {Who2} should be able to manage tasks but must not have access to "
                    "{area2}, and no built-in role does that.",
                    "None of the standard roles works for {who2}: task management yes, {area2} no. How do we set up a "
                    "custom role?",
                ],
            ),
        ],
        "details": [
            "We reorganised our teams last month.",
            "I'm the account owner.",
            "Logging out and in didn't change anything for them.",
        ],
        "tried": [
            "I removed them from the team and added them again.",
        ],
        "questions": [
            "What can each role do?",
            "Why can't a member see a project?",
            "How do I create a custom role?",
        ],
        "facts": [
            "Every member has one workspace role: Owner, Admin, Member, Viewer or Guest. Project admins are Members "
            "with extra rights in specific projects.",
            "Guests only see projects they are explicitly invited to and never see the member directory.",
            "Private projects are visible only to their members, even to workspace admins, unless an admin adds themselves.",
            "Custom roles are available on the Enterprise plan and let you combine individual permissions such as "
            "<em>View reports</em> or <em>Manage billing</em>.",
            "Permission changes take effect immediately, but the member may need to reload the page.",
            "Teams make it easier to manage access: add a team to a project instead of adding members one by one.",
            "The <strong>Access report</strong> under <strong>Admin Center &gt; Members</strong> lists who can see "
            "each project and why.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Members</strong> and open the member.",
            "Check the workspace role and the teams the member belongs to.",
            "Open <strong>Access report</strong> to see which projects they can access.",
            "To change a role, click <strong>Change role</strong> and confirm.",
            "On Enterprise, create custom roles under <strong>Admin Center &gt; Roles</strong>.",
        ],
        "causes": [
            "the project is private and the member was added to the team but not to the project",
            "the member is a Guest, and guests need explicit invitations",
            "a custom role removed the View reports permission",
            "the page was not reloaded after the role change",
            "the team has view-only access to the project",
        ],
        "faq": [
            ("Can admins see private projects?",
             "Not automatically. Admins can add themselves to a private project, which is recorded in the audit log."),
            ("How many owners can a workspace have?",
             "One owner. Ownership can be transferred under <strong>Admin Center &gt; Account</strong>."),
        ],
        "terms": {"path": "Admin Center &gt; Members", "thing": "roles and permissions",
                  "artifact": "member's email address and the page they tried to open"},
        "articles": [
            ("Why can't a user see a project?", "troubleshoot"),
            ("Roles and permissions explained", "guide"),
        ],
    },
    {
        "key": "gdpr_deletion",
        "name": "GDPR and data deletion",
        "group": "billing",
        "tags": ["gdpr", "privacy"],
        "slots": {
            "subj": [("a former employee", "someone who used to work for us"), ("a customer of ours", "one of our clients"),
                     ("a job applicant", "an applicant")],
        },
        "problems": [
            (
                ["GDPR deletion request", "Right to erasure request"],
                "We received a GDPR erasure request from {subj}. Please confirm how we can permanently delete all of "
                "their personal data from your system, including backups.",
                [
                    "{Subj2} has asked us to erase their personal data under GDPR. How do we delete everything about "
                    "them in your platform permanently, backups included?",
                    "Right-to-be-forgotten request from {subj2}: what's the process to fully remove their personal "
                    "data, also from backups?",
                ],
            ),
            (
                ["Need signed DPA", "Data processing agreement and subprocessors"],
                "Our legal team needs a signed data processing agreement and the current list of subprocessors before "
                "{deadline}. Where is your data stored?",
                [
                    "Before {deadline2} our lawyers require the signed DPA plus your up-to-date subprocessor list. "
                    "Also, in which region is our data hosted?",
                    "Legal asks for a countersigned data processing agreement and the subprocessor list by "
                    "{deadline2}, and wants to know the data location.",
                ],
            ),
            (
                ["Delete our account and all data", "Close account permanently"],
                "We are closing our account and want all our data deleted permanently. Please send a confirmation of "
                "deletion when done.",
                [
                    "We're shutting down our workspace and need every bit of our data permanently removed, with "
                    "written confirmation once it's done.",
                    "Please delete our whole account and data for good and confirm the deletion in writing.",
                ],
            ),
        ],
        "details": [
            "Our DPO is in copy.",
            "We're based in Germany, so this is time-sensitive.",
            "We have a 30-day deadline to respond.",
        ],
        "tried": [
            "I looked in the privacy settings but wasn't sure which option deletes everything.",
        ],
        "questions": [
            "How do I handle a GDPR deletion request?",
            "Where can I get your data processing agreement?",
            "What happens to our data when we close the account?",
        ],
        "facts": [
            "Admins can permanently delete a member's personal data under <strong>Admin Center &gt; Privacy &gt; Data "
            "requests</strong>; the action cannot be undone.",
            "Deletion removes the person's profile, comments and uploaded files and replaces their name in history "
            "with <em>Deleted user</em>.",
            "Data in backups is deleted automatically when the backups expire after 35 days.",
            "We act as a data processor for your workspace data; our data processing agreement (DPA) and the list of "
            "subprocessors are available in the Trust Center.",
            "Workspaces can be hosted in the US, the EU (Frankfurt) or Australia (Sydney); the region is chosen at "
            "signup and shown under <strong>Admin Center &gt; Account</strong>.",
            "When a workspace is closed, all data is deleted 90 days after cancellation, and you can request a "
            "deletion certificate.",
            "Data subject access requests can be answered with an export of all data about a person, generated from "
            "the same page.",
            "We notify customers at least 30 days before adding a new subprocessor.",
        ],
        "steps": [
            "Go to <strong>Admin Center &gt; Privacy &gt; Data requests</strong>.",
            "Click <strong>New request</strong> and choose <strong>Erasure</strong> or <strong>Access</strong>.",
            "Search for the person by email address and confirm the identity check.",
            "Review the summary of data that will be deleted and click <strong>Delete permanently</strong>.",
            "Download the confirmation for your records.",
        ],
        "causes": [
            "the person still has an active account, which must be deactivated first",
            "the person appears in another workspace that you do not administer",
            "the request was started by an admin without the Privacy permission",
            "the data is in a backup that has not expired yet",
        ],
        "faq": [
            ("How long does deletion take?", "Live data is deleted within 24 hours. Backups expire within 35 days."),
            ("Can you sign our own DPA template?",
             "On the Enterprise plan our legal team can review your template. Otherwise our standard DPA applies."),
        ],
        "terms": {"path": "Admin Center &gt; Privacy &gt; Data requests", "thing": "data request",
                  "artifact": "request ID shown on the confirmation"},
        "articles": [
            ("Data retention and the data processing agreement (DPA)", "faq"),
            ("GDPR and data deletion requests: the complete guide", "guide"),
        ],
    },
]

TOPIC_KEYS = [t["key"] for t in TOPICS]
_TOPIC_BY_KEY = {t["key"]: t for t in TOPICS}

# Common slots, usable in every ticket template.
_COMMON_SLOTS: dict[str, list] = {
    "when": [
        ("since this morning", "as of this morning"),
        ("since yesterday afternoon", "starting yesterday afternoon"),
        ("since Monday", "from Monday onwards"),
        ("after your latest release", "ever since your last update went out"),
        ("for two days now", "for about 48 hours"),
        ("since last week", "since some time last week"),
    ],
    "num": [("3", "three"), ("5", "five"), ("12", "a dozen"), ("25", "about 25"), ("40", "forty or so"),
            ("150", "around 150")],
    "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"],
    "deadline": [("the end of the month", "month end"), ("Friday", "this Friday"),
                 ("our audit next week", "next week's audit")],
}
_PLAN_PAIRS = [("Enterprise", "Professional"), ("Professional", "Team"), ("Enterprise", "Team")]

# ---------------------------------------------------------------------------------------
# Organizations, people
# ---------------------------------------------------------------------------------------

_ORGS = [
    # name, domain, plan, excluded topics (never filed by this org: basis of the "novel" queries)
    ("Northwind Traders", "northwind.example", "professional",
     {"salesforce_integration", "webhooks", "gdpr_deletion", "api_rate_limits"}),
    ("Initech Software", "initech.example", "enterprise", {"shipping_orders", "mobile_crash", "refunds"}),
    ("Globex Health", "globex-health.example", "enterprise", {"shipping_orders", "slack_integration", "api_rate_limits"}),
    ("Acme Logistics", "acme-logistics.example", "team", {"salesforce_integration", "gdpr_deletion", "two_factor"}),
    ("Umbrella Retail GmbH", "umbrella-retail.example", "professional", {"webhooks", "mobile_crash", "data_export"}),
    ("Stark Manufacturing", "stark-mfg.example", "enterprise",
     {"slack_integration", "email_notifications", "performance"}),
    ("Wayne Financial", "wayne-financial.example", "enterprise", {"shipping_orders", "mobile_crash", "refunds",
                                                                  "slack_integration"}),
    ("Hooli Media", "hooli.example", "team", {"salesforce_integration", "shipping_orders", "permissions_roles"}),
]
_ORG_FOCUS = [  # topics filed more often by each base org
    {"shipping_orders", "billing_invoices", "password_reset", "mobile_crash"},
    {"api_rate_limits", "webhooks", "sso", "data_export"},
    {"gdpr_deletion", "two_factor", "permissions_roles", "sso"},
    {"shipping_orders", "mobile_crash", "performance", "email_notifications"},
    {"gdpr_deletion", "billing_invoices", "refunds", "password_reset"},
    {"salesforce_integration", "permissions_roles", "sso", "data_export"},
    {"two_factor", "sso", "gdpr_deletion", "billing_invoices"},
    {"slack_integration", "performance", "email_notifications", "refunds"},
]

_FIRST = ["Maria", "James", "Aiko", "José", "Priya", "Lukas", "Zoë", "Chen", "Fatima", "Oliver", "Sofia", "Mateo",
          "Ingrid", "Kwame", "Elena", "Noah", "Yuki", "Amara", "Søren", "Isabelle", "Rahul", "Hannah", "Diego",
          "Łukasz", "Grace", "Tomás", "Leila", "Ben", "Anika", "François"]
_LAST = ["Schmidt", "O'Brien", "Tanaka", "García", "Patel", "Müller", "Nguyen", "Kowalski", "Johnson", "Rossi",
         "Andersen", "Okafor", "Dubois", "Silva", "Kim", "Larsen", "Haddad", "Smith", "Fernández", "Novak",
         "Yamamoto", "Brown", "Ivanova", "Costa", "Murphy", "Lindqvist", "Mensah", "Wright", "Sato", "Weber"]
_JOBS = ["IT Manager", "Operations Lead", "Finance Director", "Office Manager", "Head of Customer Success",
         "Systems Administrator", "Project Coordinator", "CTO", "Procurement Specialist", "Team Lead"]
_AGENTS = 20
_REQUESTERS_PER_ORG = 30

_GROUPS = {  # group name -> id
    "accounts": 360000200001,
    "billing": 360000200002,
    "technical": 360000200003,
    "integrations": 360000200004,
    "logistics": 360000200005,
}
_SECTIONS = {  # topic group -> help center section id
    "accounts": 360000300001,
    "billing": 360000300002,
    "technical": 360000300003,
    "integrations": 360000300004,
    "logistics": 360000300005,
}
_CUSTOM_STATUS = {"new": 360000400001, "open": 360000400002, "pending": 360000400003, "hold": 360000400004,
                  "solved": 360000400005, "closed": 360000400006}

# custom field ids
CF_PRODUCT_AREA = 360001000001
CF_PLAN = 360001000002
CF_AFFECTED_USERS = 360001000003
CF_BLOCKING = 360001000004
CF_ORDER_NUMBER = 360001000005
CF_BROWSER = 360001000006
CF_SENTIMENT = 360001000007
CF_ENVIRONMENTS = 360001000008

_GREETINGS = ["Hi,", "Hello,", "Hi there,", "Hello support team,", "Hi Lumen team,", "Good morning,", "Hey,",
              "Dear support,"]
_SIGNOFFS = ["Thanks,\n{first}", "Best regards,\n{first} {last}\n{org}", "Thank you!\n{first}", "Cheers,\n{first}",
             "Regards,\n{first} {last}", "Thanks in advance\n\n--\n{first} {last} | {job} | {org}",
             "Kind regards,\n{first} {last}\n{job}\n{org}", "{first}\n\nSent from my iPhone"]
_IMPACTS = ["This is blocking {num} people on our side.", "Not super urgent but it's slowing us down.",
            "We have a client demo on Thursday so we'd really appreciate a quick fix.", "About {num} users are affected.",
            "It's a big problem for us right now.", "Only affects me as far as I know."]
_IMPACTS_OTHER = ["Our finance team is waiting on this.", "We'd appreciate a quick answer.",
                  "This needs to be sorted out before the end of the month.", "Not urgent, but please confirm."]
_ASKS = ["Can you please look into this?", "Please advise.", "Any idea what's going on?",
         "Could someone get back to me asap?", "Let me know if you need more info.", "What do we need to do to fix this?"]
_GENERIC_TRIED = ["We already tried logging out and back in.", "I cleared the browser cache, same result.",
                  "Tried on a different computer as well."]
_DUP_PREFIXES = ["", "", "", "", "Not sure if someone on my team already reported this, but ",
                 "Same issue as a colleague mentioned: ", "Hi, quick one: "]

_CHANNELS = ["email", "web", "api", "chat", "voice", "mobile"]
_CHANNEL_W = [45, 30, 7, 9, 4, 5]

# ---------------------------------------------------------------------------------------
# Article building blocks
# ---------------------------------------------------------------------------------------

_GENERIC_ARTICLE = [
    "Only account owners and admins can change the {thing}; other members see these settings in read-only mode.",
    "You can find the relevant settings under <strong>{path}</strong>.",
    "Changes to the {thing} are saved immediately, although people who are already signed in may keep the previous "
    "behaviour until their session is refreshed.",
    "If you manage more than one workspace, repeat these steps in each workspace &mdash; settings are not shared "
    "between workspaces.",
    "We recommend trying any change with a single test user first and rolling it out to everyone once you are happy "
    "with the result.",
    "When you contact support about this, please include the {artifact} and the approximate time the problem "
    "occurred, including your time zone.",
    "The audit log under <strong>Admin Center &gt; Activity &gt; Audit log</strong> records every change to the "
    "{thing}, together with the admin who made it.",
    "In our experience most problems here come down to a small typo, so compare each value character by character.",
    "If nothing changes after {n} minutes, sign out completely, close every browser tab and try again.",
    "Our status page at <a href=\"https://status.lumenhq.example\">status.lumenhq.example</a> lists any ongoing "
    "incident that could affect the {thing}.",
    "Sandbox workspaces behave exactly like production, which makes them a safe place to test changes to the {thing}.",
    "Screenshots help us a lot: capture the full browser window, including the address bar, so we can see which page "
    "you were on.",
    "If your company uses a proxy or a firewall, make sure that <code>*.lumenhq.example</code> is allowed.",
    "Admins receive an email summary whenever the {thing} is changed, so there are no silent surprises.",
    "This applies to the web app as well as to the iOS and Android apps, unless noted otherwise.",
    "We support the latest two versions of Chrome, Firefox, Safari and Edge; older browsers may show these pages "
    "differently.",
    "Nothing in this process deletes data, so you can safely repeat the steps as often as needed.",
    "For larger teams, write down the current {thing} before changing anything so that you can roll back quickly.",
    "Need a hand? Our support team is available around the clock on weekdays, and Enterprise customers can also "
    "reach us by phone.",
    "It can take up to {n} minutes for a change to reach every region, because configuration is replicated "
    "asynchronously.",
    "Members are not notified about this change automatically, so let your team know before you make it.",
    "The same options are available through the REST API for teams that manage their workspace as code.",
    "If you see a different menu than the one described here, your workspace may still be on the previous version of "
    "the admin center; the options are the same but grouped differently.",
    "Your changes are kept when you switch plans, but some options are hidden on plans that do not include them.",
    "For compliance reviews, you can export the history of the {thing} from the audit log as a CSV file.",
    "A short internal guide for your team, with screenshots of your own {thing}, prevents most repeat questions.",
    "Most customers finish this in less than {n} minutes.",
    "Keep the {artifact} at hand before you start; you will need it if something goes wrong.",
]
_CAUSE_FORMS = [
    "A common reason is that {cause}.",
    "This usually happens when {cause}.",
    "Check whether {cause}; this is the most frequent cause we see.",
    "Another possibility is that {cause}.",
    "Less often, {cause}.",
]
_PLANS = ["Team", "Professional", "Enterprise"]
_PLATFORMS = ["web app", "iOS app", "Android app", "desktop app for Windows and macOS"]
_REGIONS = ["the United States", "the European Union", "Australia", "Canada"]
_SCENARIOS: list[tuple[str, list[str]]] = [
    ("On the {plan} plan", [
        "Workspaces on the {plan} plan get access to the {thing} settings described in this article.",
        "If you are on the {plan} plan and do not see an option mentioned here, ask your account owner to check the "
        "plan details under <strong>Admin Center &gt; Billing &gt; Subscription</strong>.",
        "On the {plan} plan, up to {n} admins can make changes to the {thing} at the same time.",
    ]),
    ("Using the {platform}", [
        "In the {platform}, the same settings are available from the main menu under <strong>Settings</strong>.",
        "The {platform} shows a short summary of the {thing}; for the full options, open the web app.",
        "If the {platform} behaves differently from the web app, update it to the latest version first.",
    ]),
    ("Workspaces hosted in {region}", [
        "For workspaces hosted in {region}, all processing happens in data centers in {region}.",
        "Support for workspaces in {region} is available during local business hours and by email around the clock.",
        "Scheduled maintenance for {region} takes place on Sunday mornings, local time, and is announced a week ahead.",
    ]),
    ("Large organizations", [
        "Organizations with more than 1,000 members should roll out changes to the {thing} team by team.",
        "For large organizations, we recommend assigning a dedicated admin who owns the {thing}.",
        "Bulk changes for thousands of members are faster through the API than through the admin center.",
    ]),
    ("Working with a sandbox", [
        "Enterprise plans include a sandbox workspace where you can rehearse changes to the {thing}.",
        "Copying the configuration from the sandbox to production is a manual step, so note every value you change.",
        "Sandbox data is reset every 90 days.",
    ]),
    ("Automating with the API", [
        "Everything in this article can also be done through the REST API with an admin API token.",
        "API changes to the {thing} are recorded in the audit log just like changes made in the admin center.",
        "Scripts that change the {thing} should respect the API rate limits and retry on HTTP 429 responses.",
    ]),
    ("Auditing and compliance", [
        "Every change to the {thing} is recorded in the audit log for two years.",
        "Auditors often ask for a record of who can change the {thing}; the access report provides it.",
        "You can stream audit events to your SIEM with the audit log webhook.",
    ]),
    ("Migrating from an older setup", [
        "If you set up the {thing} before last year, some options may still use their previous names.",
        "Older configurations keep working, but we recommend reviewing them against this guide.",
        "During a migration, keep the old and the new configuration side by side until all members are switched over.",
    ]),
    ("Common mistakes", [
        "Most support requests about the {thing} come from a handful of recurring mistakes.",
        "Before you contact support, go through the checklist in this section.",
    ]),
    ("What to send to support", [
        "When you contact us, include the {artifact}.",
        "A screen recording of the problem often lets us find the cause in a single reply.",
        "Tell us which steps of this guide you already tried, so that we don't ask you to repeat them.",
    ]),
]
_REVISIONS = [
    "Update: since the March release this setting also applies to guest members, so review guest access after "
    "changing it.",
    "Note: this behaviour changed recently, and the limit described here is now enforced separately for every "
    "workspace.",
    "As of this quarter, admins can undo this change for 30 days from the audit log instead of contacting support.",
    "Update: we now show a warning banner before the change is applied, so you get a chance to cancel it.",
    "Recently revised: the waiting time mentioned above was reduced, and most changes now take effect within a "
    "minute.",
    "Heads-up: the old setting name is still visible in some browsers until the page cache is cleared.",
]

# Article plan: round-robin over topics, so any prefix covers many topics.
_ARTICLE_PLAN: list[tuple[int, int]] = []  # (topic index, article index within topic)
for _round in range(max(len(t["articles"]) for t in TOPICS)):
    for _ti, _t in enumerate(TOPICS):
        if _round < len(_t["articles"]):
            _ARTICLE_PLAN.append((_ti, _round))
del _round, _ti, _t

# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _seed_for(seed: int, kind: int, index: int) -> int:
    return ((seed & 0xFFFFFFFF) << 40) | (kind << 34) | (index & 0x3FFFFFFFF)


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower().replace("'", "")


def _slug(title: str) -> str:
    return "-".join(w for w in re.split(r"[^0-9A-Za-z]+", _ascii_keep_case(title)) if w)


def _ascii_keep_case(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


def _weighted(rng: random.Random, cum: list[float]) -> int:
    return bisect_right(cum, rng.random() * cum[-1])


def _cum(weights: list[float]) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


_CHANNEL_CUM = _cum(_CHANNEL_W)
_PRIORITIES = ["low", "normal", "high", "urgent", None]
_PRIORITY_CUM = _cum([15, 50, 22, 8, 5])
_TYPES = ["question", "incident", "problem", "task", None]
_TYPE_CUM = _cum([35, 35, 5, 5, 20])
_STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]
# status proportions by age (oldest third ... newest fifth)
_STATUS_CUM_OLD = _cum([3, 7, 5, 2, 35, 48])
_STATUS_CUM_MID = _cum([20, 30, 15, 5, 25, 5])
_STATUS_CUM_NEW = _cum([55, 30, 10, 5, 0, 0])


def _org_info(k: int) -> dict[str, Any]:
    base = _ORGS[k % len(_ORGS)]
    rnd = k // len(_ORGS)
    name = base[0] if rnd == 0 else f"{base[0]} ({['EMEA', 'APAC', 'Americas', 'Labs'][(rnd - 1) % 4]} {rnd})"
    domain = base[1] if rnd == 0 else base[1].replace(".example", f"-{rnd}.example")
    # extra orgs rotate the exclusion / focus sets so they still differ
    excluded = base[3] if rnd == 0 else {TOPIC_KEYS[(TOPIC_KEYS.index(t) + rnd) % len(TOPIC_KEYS)] for t in base[3]}
    focus = _ORG_FOCUS[k % len(_ORGS)] if rnd == 0 else {
        TOPIC_KEYS[(TOPIC_KEYS.index(t) + rnd) % len(TOPIC_KEYS)] for t in _ORG_FOCUS[k % len(_ORGS)]}
    focus = focus - excluded
    weights = [0.0 if t in excluded else (5.0 if t in focus else 1.0) for t in TOPIC_KEYS]
    return {
        "index": k,
        "id": ORG_ID_BASE + 1000 * (k + 1) + (k * 37) % 1000,
        "name": name,
        "domain": domain,
        "plan": base[2],
        "excluded": excluded,
        "topic_cum": _cum(weights),
        "vip": k % 3 == 1,
    }


_NO_ORG_TOPIC_CUM = _cum([1.0] * len(TOPICS))


def _person(org: dict[str, Any] | None, r: int) -> dict[str, Any]:
    """A requester of an org (or of no org); the returned dict is shared: do not modify it."""
    return _person_cached(org["index"] if org else 97, org["domain"] if org else None, r)


@functools.lru_cache(maxsize=8192)
def _person_cached(ok: int, org_domain: str | None, r: int) -> dict[str, Any]:
    first = _FIRST[(ok * 7 + r * 3) % len(_FIRST)]
    last = _LAST[(ok * 11 + r * 5) % len(_LAST)]
    domain = org_domain or ["gmail.example", "outlook.example", "yahoo.example"][r % 3]
    return {
        "id": USER_ID_BASE + (ok + 1) * 100000 + r,
        "first": first,
        "last": last,
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
        "job": _JOBS[(ok + r) % len(_JOBS)],
    }


def _agent_id(a: int) -> int:
    return AGENT_ID_BASE + 1 + a


def _expand(name: str, v: Any) -> dict[str, str]:
    a, b = (v, v) if isinstance(v, str) else v
    cn = _cap(name)
    return {name: a, name + "2": b, cn: _cap(a), cn + "2": _cap(b), "q" + name: f"\"{a}\""}


def _choices(slots: dict[str, list]) -> list[list[dict[str, str]]]:
    return [[_expand(name, v) for v in values] for name, values in slots.items()]


_DYN_KEYS = {n: (n, n + "2", _cap(n), _cap(n) + "2", "q" + n)
             for n in ("inv", "amount", "order", "version", "records", "seats", "seats_real", "plan_from", "plan_to")}
_FIELD_RE = re.compile(r"\{(\w+)\}")


def _used_slots(topic: dict[str, Any]) -> set[str]:
    """Base names of the slots that the topic's ticket templates use (so only those are drawn)."""
    texts: list[str] = list(topic["details"]) + list(topic["tried"]) + list(topic["questions"])
    texts += list(topic.get("impacts") or [])
    for subjects, desc, paras in topic["problems"]:
        texts += list(subjects) + [desc] + list(paras)
    names = set()
    for t in texts:
        for f in _FIELD_RE.findall(t):
            base = f[1:] if f.startswith("q") and f[1:].lower() in _ALL_SLOT_NAMES else f
            base = base[:-1] if base.endswith("2") else base
            names.add(base.lower() if base.lower() in _ALL_SLOT_NAMES else base)
    return names | {"when", "num"}  # used by the generic impact / signoff sentences


_ALL_SLOT_NAMES = set(_COMMON_SLOTS) | set(_DYN_KEYS) | {n for t in TOPICS for n in t["slots"]}
for _t in TOPICS:
    _used = _used_slots(_t)
    _t["_choices"] = _choices({k: v for k, v in _COMMON_SLOTS.items() if k in _used}) + _choices(_t["slots"])
    _t["_dyn"] = frozenset(n for n in _DYN_KEYS if n in _used)
del _t, _used


def _ri(rng: random.Random, a: int, b: int) -> int:
    """Uniform int in [a, b] (one rng.random() call; faster than randint)."""
    return a + int(rng.random() * (b - a + 1))


def _slot_values(rng: random.Random, topic: dict[str, Any]) -> dict[str, str]:
    """Pick one value per slot; expand to {x}, {x2}, {X}, {X2}, {qx}."""
    out: dict[str, str] = {}
    for choices in topic["_choices"]:
        out.update(choices[int(rng.random() * len(choices))])
    need = topic["_dyn"]
    if not need:
        return out
    dyn: list[tuple[str, str]] = []
    if "inv" in need:
        dyn.append(("inv", f"INV-2024-{_ri(rng, 1000, 9999):04d}"))
    if "amount" in need:
        dyn.append(("amount", f"${_ri(rng, 49, 4999):,}.{('00', '50', '99')[int(rng.random() * 3)]}"))
    if "order" in need:
        dyn.append(("order", f"ORD-{_ri(rng, 100000, 999999)}"))
    if "version" in need:
        dyn.append(("version", f"{_ri(rng, 4, 5)}.{_ri(rng, 0, 14)}.{_ri(rng, 0, 3)}"))
    if "records" in need:
        dyn.append(("records", f"{_ri(rng, 50, 900) * 1000:,}"))
    if "seats" in need or "seats_real" in need:
        seats = _ri(rng, 12, 250)
        dyn.append(("seats", str(seats)))
        dyn.append(("seats_real", str(seats - _ri(rng, 3, min(15, seats - 2)))))
    if "plan_from" in need or "plan_to" in need:
        plan_from, plan_to = _PLAN_PAIRS[int(rng.random() * len(_PLAN_PAIRS))]
        dyn.append(("plan_from", plan_from))
        dyn.append(("plan_to", plan_to))
    for name, v in dyn:
        k1, k2, k3, k4, kq = _DYN_KEYS[name]
        out[k1] = out[k2] = out[k3] = out[k4] = v
        out[kq] = f"\"{v}\""
    return out


def _log_paste(rng: random.Random, lines: int) -> str:
    base_ts = _ri(rng, 1700000000, 1730000000)
    out = ["", "Here is the log from the device / our client:", "```"]
    comps = ["SyncEngine", "HttpClient", "AuthManager", "AttachmentCache", "ProjectStore", "PushHandler"]
    levels = ["DEBUG", "INFO", "INFO", "WARN", "ERROR"]
    msgs = ["request POST /api/v2/tasks/bulk status=429 retry_after=60", "cache miss key=project:{p}",
            "sync batch {p} took {ms}ms", "token refresh ok expires_in=3600",
            "java.lang.IllegalStateException: Fragment not attached to a context",
            "EXC_BAD_ACCESS (SIGSEGV) at 0x000000000000{p:04x}", "websocket closed code=1006 reason=\"\"",
            "retrying in {ms}ms (attempt {a})", "decoded 250 records in {ms}ms", "attachment {p}.jpg size=4.2MB"]
    for k in range(lines):
        ts = base_ts + k * _ri(rng, 0, 3)
        m = msgs[int(rng.random() * len(msgs))].format(p=_ri(rng, 1, 9999), ms=_ri(rng, 3, 9000),
                                                        a=_ri(rng, 1, 8))
        out.append(f"{_iso(ts)} {levels[int(rng.random() * len(levels))]:5s} "
                   f"[{comps[int(rng.random() * len(comps))]}] {m}")
    out.append("```")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------


class _TicketCore:
    __slots__ = ("record", "raw_fields", "topic", "problem", "slots", "org", "requester")

    def __init__(self, record, raw_fields, topic, problem, slots, org, requester):
        self.record = record
        self.raw_fields = raw_fields
        self.topic = topic
        self.problem = problem
        self.slots = slots
        self.org = org
        self.requester = requester


def _normalize_value(v: Any) -> Any:
    """What the CDK's TypeTransformer (schema_normalization: Default) does to a ["null","string"] value."""
    return None if v is None else (v if isinstance(v, str) else str(v))


def _make_ticket(rng: random.Random, seed: int, i: int, n_tickets: int, orgs: list[dict[str, Any]],
                 raw_types: bool) -> _TicketCore:
    rng.seed(_seed_for(seed, _K_TICKET, i))
    tid = TICKET_ID_BASE + i
    # organization (about 3% of requesters have none)
    if rng.random() < 0.03:
        org = None
    else:
        org = orgs[int(rng.random() * len(orgs))]
    ti = _weighted(rng, org["topic_cum"] if org else _NO_ORG_TOPIC_CUM)
    topic = TOPICS[ti]
    slots = _slot_values(rng, topic)
    requester = _person(org, int(rng.random() * _REQUESTERS_PER_ORG))
    slots.update(first=requester["first"], last=requester["last"], job=requester["job"],
                 org=org["name"] if org else "")
    pi = int(rng.random() * len(topic["problems"]))
    subjects, problem_text, _paras = topic["problems"][pi]

    # timestamps: spread over the span, oldest first
    slot_len = _TICKETS_SPAN / max(n_tickets, 1)
    created = _TICKETS_START + int(i * slot_len + rng.random() * slot_len)
    age = i / max(n_tickets - 1, 1)
    status_cum = _STATUS_CUM_NEW if age > 0.8 else (_STATUS_CUM_MID if age > 0.5 else _STATUS_CUM_OLD)
    status = _STATUSES[_weighted(rng, status_cum)]
    sync_end = _SYNC_TIME["initial"] - 3600
    if status == "new":
        updated = created + _ri(rng, 0, 600)
    elif status in ("solved", "closed"):
        updated = created + _ri(rng, 3600, 20 * _DAY)
    else:
        updated = created + _ri(rng, 600, 6 * _DAY)
    updated = min(updated, sync_end)
    channel = _CHANNELS[_weighted(rng, _CHANNEL_CUM)]

    # subject
    subject = subjects[int(rng.random() * len(subjects))].format(**slots)
    x = rng.random()
    if x < 0.12 and not any(ch.isdigit() for ch in subject):
        subject = subject.lower()
    elif x < 0.16:
        subject = "Re: " + subject
    elif x < 0.19:
        subject = "URGENT: " + subject
    elif x < 0.21:
        subject = "Fwd: " + subject

    # description
    body = [problem_text.format(**slots)]
    nd = (0, 1, 1, 2)[int(rng.random() * 4)]
    if nd:
        details = topic["details"]
        j = int(rng.random() * len(details))
        body.append(details[j].format(**slots))
        if nd == 2:  # a second, different detail
            body.append(details[(j + 1 + int(rng.random() * (len(details) - 1))) % len(details)].format(**slots))
    technical = topic["group"] in ("technical", "accounts", "integrations")
    if rng.random() < 0.5:
        tried = topic["tried"] + _GENERIC_TRIED if topic["group"] == "technical" else topic["tried"]
        body.append(tried[int(rng.random() * len(tried))].format(**slots))
    if rng.random() < 0.6:
        impacts = topic.get("impacts") or (_IMPACTS if technical else _IMPACTS_OTHER)
        body.append(impacts[int(rng.random() * len(impacts))].format(**slots))
    ask = _ASKS[int(rng.random() * len(_ASKS))] if rng.random() < 0.7 else ""
    if ask:
        body.append(ask)
    main = " ".join(body)
    if rng.random() < 0.35:  # split into two paragraphs, like a real email
        k = max(1, len(body) // 2)
        main = " ".join(body[:k]) + "\n\n" + " ".join(body[k:])

    if channel == "chat":
        def hms(t: int) -> str:
            return _iso(t)[11:19]

        description = (f"Chat started: {_iso(created)[:10]} {hms(created)} UTC\n\n"
                       f"({hms(created)}) {requester['first']}: hi\n"
                       f"({hms(created + 9)}) {requester['first']}: {main}\n"
                       f"({hms(created + 62)}) Lumen Bot: Thanks! An agent will be with you shortly.")
    elif channel == "voice":
        description = (f"Call from: +1 (415) 555-{_ri(rng, 0, 9999):04d}\nTime of call: {_iso(created)}\n"
                       f"Caller: {requester['name']}\nCall duration: {_ri(rng, 1, 25)} minutes\n\n"
                       f"Summary (agent notes): {main}")
    elif channel in ("web", "api", "mobile"):
        description = main
        if channel == "api":
            description = f"Submitted via in-app contact form\nCategory: {topic['name']}\n\n{main}"
    else:  # email
        parts = []
        if rng.random() < 0.75:
            parts.append(_GREETINGS[int(rng.random() * len(_GREETINGS))])
        parts.append(main)
        if rng.random() < 0.85:
            parts.append(_SIGNOFFS[int(rng.random() * len(_SIGNOFFS))].format(**slots))
        description = "\n\n".join(parts)
    # pasted logs: mostly technical topics; ticket index 42 always carries a big one
    if i == 42 or (topic["group"] == "technical" and rng.random() < 0.04):
        description += "\n" + _log_paste(rng, 220 if i == 42 else _ri(rng, 15, 90))

    priority = _PRIORITIES[_weighted(rng, _PRIORITY_CUM)]
    ttype = _TYPES[_weighted(rng, _TYPE_CUM)]
    group_key = topic["group"]
    group_id = _GROUPS[group_key] if (status != "new" or rng.random() < 0.6) else None
    agent = int(rng.random() * _AGENTS)
    assignee_id = None if (status == "new" and rng.random() < 0.85) else _agent_id(agent)

    # custom fields (raw API types)
    plan = org["plan"] if org else "team"
    area_tag = f"area_{topic['key']}"
    affected = None
    if rng.random() < 0.6:
        affected = int(slots["num"]) if slots["num"].isdigit() else _ri(rng, 1, 50)
    blocking = rng.random() < 0.3
    order_no = slots["order"] if topic["key"] == "shipping_orders" else None
    browser = None
    if topic["group"] == "technical" and rng.random() < 0.5:
        browser = (("Chrome 121 / macOS 14.3", "Firefox 122 / Windows 11", "Edge 120 / Windows 10",
                    "Safari 17.2 / macOS 14.2")[int(rng.random() * 4)])
    sentiment = round(rng.uniform(-1, 1), 2) if rng.random() < 0.7 else None
    envs = [e for e, p in (("env_production", 0.8), ("env_staging", 0.3), ("env_sandbox", 0.1)) if rng.random() < p]
    raw_fields = [
        {"id": CF_PRODUCT_AREA, "value": area_tag},
        {"id": CF_PLAN, "value": f"plan_{plan}"},
        {"id": CF_AFFECTED_USERS, "value": affected},
        {"id": CF_BLOCKING, "value": blocking},
        {"id": CF_ORDER_NUMBER, "value": order_no},
        {"id": CF_BROWSER, "value": browser},
        {"id": CF_SENTIMENT, "value": sentiment},
        {"id": CF_ENVIRONMENTS, "value": envs},
    ]
    if raw_types:
        custom_fields = [dict(f) for f in raw_fields]
    else:
        custom_fields = [{"id": f["id"], "value": _normalize_value(f["value"])} for f in raw_fields]
    fields = [dict(f) for f in custom_fields]

    tags = list(topic["tags"]) + [area_tag, f"plan_{plan}"] + envs
    if blocking:
        tags.append("blocking")
    if org and org["vip"]:
        tags.append("vip")
    if channel == "chat":
        tags.append("chat_transcript")
    if priority == "urgent":
        tags.append("escalated")
    tags = sorted(set(tags))

    # via
    if channel == "email":
        via = {"channel": "email", "source": {
            "from": {"address": requester["email"], "name": requester["name"],
                     "original_recipients": [requester["email"], SUPPORT_ADDRESS]},
            "to": {"name": "Lumen Support", "address": SUPPORT_ADDRESS}, "rel": None}}
    elif channel == "voice":
        num = f"+1415555{_ri(rng, 0, 9999):04d}"
        via = {"channel": "voice", "source": {
            "from": {"phone": num, "formatted_phone": f"+1 (415) 555-{num[-4:]}", "name": requester["name"]},
            "to": {"phone": "+18005550100", "formatted_phone": "+1 (800) 555-0100", "name": "Lumen Support"},
            "rel": "inbound"}}
    elif channel == "chat":
        via = {"channel": "chat", "source": {"from": {}, "to": {}, "rel": "chat_transcript"}}
    elif channel == "mobile":
        via = {"channel": "mobile_sdk", "source": {"from": {}, "to": {}, "rel": "mobile_sdk"}}
    else:
        via = {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}

    collaborators = []
    if org and rng.random() < 0.2:
        collaborators = sorted({_person(org, int(rng.random() * _REQUESTERS_PER_ORG))["id"]
                                for _ in range(_ri(rng, 1, 3))} - {requester["id"]})
    followers = [_agent_id(int(rng.random() * _AGENTS))] if rng.random() < 0.1 else []

    if status in ("solved", "closed"):
        sr_score = ("good", "good", "good", "bad", "offered")[int(rng.random() * 5)]
        if sr_score == "offered":
            satisfaction = {"score": "offered"}
        else:
            satisfaction = {
                "id": 360100000000 + tid, "score": sr_score,
                "comment": ("Quick and helpful, thanks!" if sr_score == "good" else "Took way too long to get an answer."),
                "reason": None if sr_score == "good" else "The issue took too long to resolve",
                "reason_id": None if sr_score == "good" else 1001,
            }
    elif rng.random() < 0.9:
        satisfaction = {"score": "unoffered"}
    else:
        satisfaction = None

    submitter_id = requester["id"] if channel not in ("voice",) else _agent_id(agent)
    external_id = None
    if topic["key"] == "shipping_orders" and rng.random() < 0.7:
        external_id = slots["order"]
    elif channel == "api" and rng.random() < 0.5:
        external_id = f"SF-{_ri(rng, 10000000, 99999999)}"

    record = {
        "url": f"{SUBDOMAIN_URL}/api/v2/tickets/{tid}.json",
        "id": tid,
        "external_id": external_id,
        "via": via,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "generated_timestamp": updated,
        "type": ttype,
        "subject": subject,
        "raw_subject": subject,
        "description": description,
        "priority": priority,
        "status": status,
        "recipient": SUPPORT_ADDRESS if channel == "email" else None,
        "requester_id": requester["id"],
        "submitter_id": submitter_id,
        "assignee_id": assignee_id,
        "organization_id": org["id"] if org else None,
        "group_id": group_id,
        "collaborator_ids": collaborators,
        "follower_ids": followers,
        "email_cc_ids": list(collaborators) if channel == "email" else [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": ttype == "problem" and rng.random() < 0.5,
        "is_public": True,
        "due_at": _iso(created + 7 * _DAY) if ttype == "task" else None,
        "tags": tags,
        "custom_fields": custom_fields,
        "satisfaction_rating": satisfaction,
        "sharing_agreement_ids": [],
        "custom_status_id": _CUSTOM_STATUS[status],
        "fields": fields,
        "followup_ids": [],
        "ticket_form_id": TICKET_FORM_ID,
        "deleted_ticket_form_id": None,
        "brand_id": BRAND_ID,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": channel == "chat",
    }
    return _TicketCore(record, raw_fields, topic, pi, slots, org, requester)


_NEXT_STATUS = {
    "new": (("open", 0.6), ("pending", 0.2), ("solved", 0.1), ("new", 0.1)),
    "open": (("pending", 0.4), ("solved", 0.4), ("open", 0.2)),
    "pending": (("open", 0.4), ("solved", 0.5), ("pending", 0.1)),
    "hold": (("open", 0.7), ("hold", 0.3)),
    "solved": (("closed", 0.6), ("solved", 0.3), ("open", 0.1)),
    "closed": (("closed", 1.0),),
}
_UPDATE_TAGS = ["followup_sent", "customer_replied", "awaiting_engineering", "kb_linked", "sla_breach_risk"]


def _update_ticket(rng: random.Random, seed: int, i: int, record: dict[str, Any], mode: str) -> None:
    """Change only metadata: status (+custom_status_id), updated_at (+generated_timestamp), tags, assignee_id."""
    rng.seed(_seed_for(seed, _K_TICKET_UPD[mode], i))
    x, acc, status = rng.random(), 0.0, record["status"]
    for s, p in _NEXT_STATUS[record["status"]]:
        acc += p
        if x < acc:
            status = s
            break
    record["status"] = status
    record["custom_status_id"] = _CUSTOM_STATUS[status]
    sync = _SYNC_TIME[mode]
    updated = sync - _ri(rng, 3600, 6 * _DAY)
    record["updated_at"] = _iso(updated)
    record["generated_timestamp"] = updated
    tags = set(record["tags"])
    tags.add(_UPDATE_TAGS[int(rng.random() * len(_UPDATE_TAGS))])
    if mode == "update-paragraph":
        tags.add("reviewed")
    record["tags"] = sorted(tags)
    if status != "new":
        if record["assignee_id"] is None or rng.random() < 0.3:
            record["assignee_id"] = _agent_id(int(rng.random() * _AGENTS))


# ---------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------


def _article_spec(i: int) -> tuple[dict[str, Any], str, str, int]:
    """(topic, title, kind, cycle) of the i-th article."""
    ti, ai = _ARTICLE_PLAN[i % len(_ARTICLE_PLAN)]
    cycle = i // len(_ARTICLE_PLAN)
    topic = TOPICS[ti]
    title, kind = topic["articles"][ai]
    if cycle:
        title = f"{title} (part {cycle + 1})"
    return topic, title, kind, cycle


def _article_id(i: int) -> int:
    return ARTICLE_ID_BASE + i * ARTICLE_ID_STEP


def _article_html_url(i: int, title: str) -> str:
    return f"{SUBDOMAIN_URL}/hc/en-us/articles/{_article_id(i)}-{_slug(title)}"


def article_is_long(i: int) -> bool:
    """True when the i-th generated article is a long guide (2,500-6,000 words)."""
    return _article_spec(i)[2] == "guide"


class _Para:
    __slots__ = ("sentences",)

    def __init__(self, sentences: list[str]):
        self.sentences = sentences

    def html(self) -> str:
        return "<p>" + " ".join(self.sentences) + "</p>"


def _pick(rng: random.Random, pool: list[str], k: int) -> list[str]:
    return rng.sample(pool, min(k, len(pool)))


def _build_article_blocks(rng: random.Random, i: int, n_articles: int) -> tuple[list[Any], str, dict[str, Any], str]:
    """Return (blocks, title, topic, kind). Blocks are HTML strings or _Para (editable paragraphs)."""
    topic, title, kind, cycle = _article_spec(i)
    terms = dict(topic["terms"])
    n = rng.choice([2, 5, 10, 15])
    terms["n"] = str(n)

    def fmt(s: str, **extra: str) -> str:
        return s.format(**terms, **extra) if ("{" in s) else s

    facts = topic["facts"]
    causes = [_CAUSE_FORMS[j % len(_CAUSE_FORMS)].format(cause=c) for j, c in enumerate(topic["causes"])]
    generic = [fmt(s) for s in _GENERIC_ARTICLE]

    def para(pools: list[list[str]], k: int) -> _Para:
        chosen: list[str] = []
        for pool in pools:
            chosen.extend(_pick(rng, pool, 1 + int(rng.random() * 2)))
        rng.shuffle(chosen)
        extra = [s for s in generic if s not in chosen]
        while len(chosen) < k:
            s = extra.pop(int(rng.random() * len(extra)))
            chosen.append(s)
        return _Para(chosen[: max(k, 3)])

    blocks: list[Any] = []
    # intro
    intro_facts = facts[: 2 + int(rng.random() * 2)]
    if kind == "troubleshoot":
        blocks.append(_Para([f"This article helps when something goes wrong with the {terms['thing']}."] + intro_facts))
    elif kind == "faq":
        blocks.append(_Para([f"Answers to the questions we hear most often about the {terms['thing']}."] + intro_facts))
    else:
        blocks.append(_Para(list(intro_facts)))
    if cycle:
        blocks.append(_Para([f"This is part {cycle + 1} of our series on the {terms['thing']}.",
                             fmt(_GENERIC_ARTICLE[int(rng.random() * len(_GENERIC_ARTICLE))])]))

    def steps_block() -> None:
        blocks.append("<h2>Step&nbsp;by step</h2>")
        blocks.append("<ol>" + "".join(f"<li>{s}</li>" for s in topic["steps"]) + "</ol>")

    def causes_block(k: int) -> None:
        blocks.append("<h2>If it still doesn't work</h2>")
        blocks.append(_Para(_pick(rng, causes, k) + _pick(rng, generic, 1)))

    def faq_block(k: int) -> None:
        blocks.append("<h2>Frequently asked questions</h2>")
        for q, a in topic["faq"][:k]:
            blocks.append(f"<h3>{q}</h3>")
            blocks.append(f"<p>{a}</p>")

    if kind == "howto":
        blocks.append(para([facts[2:]], 4))
        blocks.append("<h2>Before you begin</h2>")
        blocks.append("<ul>" + "".join(f"<li>{fmt(s)}</li>" for s in (
            "You need to be an admin or the account owner.",
            "Keep the {artifact} at hand.",
            "Allow about {n} minutes.")) + "</ul>")
        steps_block()
        causes_block(2)
        faq_block(1)
    elif kind == "troubleshoot":
        blocks.append("<h2>Common causes</h2>")
        blocks.append("<ul>" + "".join(f"<li>{_cap(c)}.</li>" for c in topic["causes"]) + "</ul>")
        blocks.append(para([facts[2:], causes], 5))
        steps_block()
        blocks.append("<h2>Still stuck?</h2>")
        blocks.append(_Para([fmt("Contact us and include the {artifact}."), fmt(_GENERIC_ARTICLE[5])]))
    elif kind == "faq":
        faq_block(len(topic["faq"]))
        blocks.append("<h2>More details</h2>")
        blocks.append(para([facts[3:]], 5))
        blocks.append(para([causes], 4))
    else:  # guide: long
        target = 2500 + int(rng.random() * 3500)
        blocks.append(para([facts], 5))
        blocks.append("<h2>Before you begin</h2>")
        blocks.append("<ul>" + "".join(f"<li>{fmt(s)}</li>" for s in (
            "You need to be an admin or the account owner.",
            "Keep the {artifact} at hand.",
            "Read the whole guide once before you change anything &mdash; it takes about {n} minutes.")) + "</ul>")
        steps_block()
        blocks.append(para([facts, generic], 5))
        scen_order = list(range(len(_SCENARIOS)))
        rng.shuffle(scen_order)
        variants = {"plan": _PLANS, "platform": _PLATFORMS, "region": _REGIONS}
        words = sum(_block_words(b) for b in blocks)
        j = 0
        while words < target:
            heading, sents = _SCENARIOS[scen_order[j % len(scen_order)]]
            rnd = j // len(scen_order)
            sub = {k: v[(rnd + j) % len(v)] for k, v in variants.items()}
            h = heading.format(**sub)
            if rnd and "{" not in heading:
                h = f"{h} ({('continued', 'part 3', 'part 4', 'part 5')[min(rnd - 1, 3)]})"
            blocks.append(f"<h2>{h}</h2>")
            scen_sents = [s.format(**terms, **sub) for s in sents]
            for _ in range(2 + int(rng.random() * 2)):
                p = para([scen_sents, facts, causes], 6)
                blocks.append(p)
                words += _block_words(p)
            if heading == "Common mistakes":
                ul = "<ul>" + "".join(f"<li>{_cap(c)}.</li>" for c in topic["causes"]) + "</ul>"
                blocks.append(ul)
                words += _block_words(ul)
            words += 3
            j += 1
        faq_block(len(topic["faq"]))
    # related articles (same topic, same cycle, that exist)
    related = []
    for k0, (ti2, _ai2) in enumerate(_ARTICLE_PLAN):
        if TOPICS[ti2] is topic:
            k = k0 + cycle * len(_ARTICLE_PLAN)
            if k != i and k < n_articles:
                t2 = _article_spec(k)[1]
                related.append(f"<li><a href=\"{_article_html_url(k, t2)}\">{html.escape(t2, quote=False)}</a></li>")
    if related:
        blocks.append("<h2>Related articles</h2>")
        blocks.append("<ul>" + "".join(related) + "</ul>")
    return blocks, title, topic, kind


_TAG_RE = re.compile(r"<[^>]+>")


def _block_words(b: Any) -> int:
    s = b.html() if isinstance(b, _Para) else b
    return len(_TAG_RE.sub(" ", s).split())


def _make_article(rng: random.Random, seed: int, i: int, n_articles: int, mode: str) -> dict[str, Any]:
    rng.seed(_seed_for(seed, _K_ARTICLE, i))
    blocks, title, topic, kind = _build_article_blocks(rng, i, n_articles)
    aid = _article_id(i)
    slot_len = _ARTICLES_SPAN / max(n_articles, 1)
    created = _ARTICLES_START + int(i * slot_len + rng.random() * slot_len)
    last = _SYNC_TIME["initial"] - 3600
    edited = min(created + _ri(rng, 0, 300 * _DAY), last)
    updated = min(edited + _ri(rng, 0, 30 * _DAY), last)
    vote_count = _ri(rng, 0, 60)
    vote_sum = vote_count - 2 * _ri(rng, 0, vote_count // 3) if vote_count else 0
    labels = [topic["key"]] + list(topic["tags"])
    draft = (i % 23 == 17)
    promoted = rng.random() < 0.1
    position = 0 if rng.random() < 0.7 else _ri(rng, 1, 10)
    user_segment_id = None if rng.random() < 0.8 else 360000500001
    if mode != "initial":
        urng = rng  # the body blocks are built: reuse the generator for the update stream
        urng.seed(_seed_for(seed, _K_ARTICLE_UPD[mode], i))
        updated = _SYNC_TIME[mode] - _ri(urng, 3600, 5 * _DAY)
        extra = _ri(urng, 1, 8)
        vote_count += extra
        vote_sum += extra - 2 * _ri(urng, 0, extra // 2)
        labels.append("reviewed" if mode == "update-metadata" else "revised")
        if mode == "update-paragraph":
            edited = updated
            if kind == "guide":
                paras = [k for k, b in enumerate(blocks) if isinstance(b, _Para)]
                # a paragraph in the middle of the article (so not in the first chunk)
                lo, hi = len(paras) * 2 // 5, max(len(paras) * 3 // 5, len(paras) * 2 // 5 + 1)
                k = paras[lo + int(urng.random() * (hi - lo))]
                sents = list(blocks[k].sentences)
                old = sents[-1]
                cands = [r for r in _REVISIONS if r not in sents]
                cands.sort(key=lambda r: (abs(len(r) - len(old)), r))
                sents[-1] = cands[0]
                blocks[k] = _Para(sents)
    body = "\n".join(b.html() if isinstance(b, _Para) else b for b in blocks)
    return {
        "id": aid,
        "url": f"{SUBDOMAIN_URL}/api/v2/help_center/en-us/articles/{aid}.json",
        "html_url": _article_html_url(i, title),
        "author_id": AUTHOR_IDS[i % len(AUTHOR_IDS)],
        "comments_disabled": i % 5 == 3,
        "draft": draft,
        "promoted": promoted,
        "position": position,
        "vote_sum": vote_sum,
        "vote_count": vote_count,
        "section_id": _SECTIONS[topic["group"]],
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "name": title,
        "title": title,
        "source_locale": "en-us",
        "locale": "en-us",
        "outdated": False,
        "outdated_locales": [],
        "edited_at": _iso(edited),
        "user_segment_id": user_segment_id,
        "permission_group_id": 360000600001,
        "content_tag_ids": ["01HN8ZQ4Y0J3K5V7W9X1Z3B5D7"] if topic["group"] == "technical" else [],
        "label_names": labels,
        "body": body,
    }


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def _state(stream: str, cursor: str | None) -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": stream}, "stream_state": {"updated_at": cursor}}}}


def generate_messages(
    n_tickets: int = 300,
    n_articles: int = 40,
    *,
    seed: int = 7,
    n_orgs: int = 8,
    state_every: int | None = 100,
    mode: str = "initial",
    raw_types: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield Airbyte protocol messages: tickets, then articles, with STATE checkpoints.

    ``state_every``: a STATE after every that many records of a stream (None/0: only at the end
    of each stream). ``raw_types=True`` keeps custom field values in their API types (bool, number,
    list) instead of the source connector's normalized strings.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if n_tickets < 0 or n_articles < 0 or n_orgs < 1:
        raise ValueError("n_tickets and n_articles must be >= 0 and n_orgs >= 1")
    orgs = [_org_info(k) for k in range(n_orgs)]
    rng = random.Random()
    emitted_ms = _SYNC_TIME[mode] * 1000
    every = state_every or 0

    cursor: str | None = None
    for i in range(n_tickets):
        core = _make_ticket(rng, seed, i, n_tickets, orgs, raw_types)
        rec = core.record
        if mode != "initial":
            _update_ticket(rng, seed, i, rec, mode)
        if cursor is None or rec["updated_at"] > cursor:
            cursor = rec["updated_at"]
        yield {"type": "RECORD", "record": {"stream": "tickets", "data": rec, "emitted_at": emitted_ms + i}}
        if every and (i + 1) % every == 0 and i + 1 < n_tickets:
            yield _state("tickets", cursor)
    yield _state("tickets", cursor)

    cursor = None
    base = emitted_ms + n_tickets
    for i in range(n_articles):
        rec = _make_article(rng, seed, i, n_articles, mode)
        if cursor is None or rec["updated_at"] > cursor:
            cursor = rec["updated_at"]
        yield {"type": "RECORD", "record": {"stream": "articles", "data": rec, "emitted_at": base + i}}
        if every and (i + 1) % every == 0 and i + 1 < n_articles:
            yield _state("articles", cursor)
    yield _state("articles", cursor)


def dumps(message: dict[str, Any]) -> str:
    """Compact one-line JSON, as written by the CLI (UTF-8, not ASCII-escaped)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def configured_catalog(sync_mode: str = "append_dedup") -> dict[str, Any]:
    """ConfiguredAirbyteCatalog for the tickets and articles streams."""
    streams = []
    for name in ("tickets", "articles"):
        streams.append({
            "stream": {
                "name": name,
                "json_schema": {"type": "object"},
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": ["updated_at"],
                "source_defined_primary_key": [["id"]],
            },
            "sync_mode": "incremental",
            "destination_sync_mode": sync_mode,
            "primary_key": [["id"]],
            "cursor_field": ["updated_at"],
        })
    return {"streams": streams}


def ticket_topic(record: dict[str, Any]) -> str | None:
    """Topic key of a generated ticket (from its ``area_<topic>`` tag)."""
    for t in record.get("tags") or []:
        if t.startswith("area_") and t[5:] in _TOPIC_BY_KEY:
            return t[5:]
    return None


def article_topic(record: dict[str, Any]) -> str | None:
    """Topic key of a generated article (first label)."""
    labels = record.get("label_names") or []
    return labels[0] if labels and labels[0] in _TOPIC_BY_KEY else None


def article_ids_by_topic(n_articles: int = 40) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {k: [] for k in TOPIC_KEYS}
    for i in range(n_articles):
        out[_article_spec(i)[0]["key"]].append(_article_id(i))
    return out


def build_eval_queries(
    n_tickets: int = 300,
    n_articles: int = 40,
    *,
    seed: int = 7,
    n_orgs: int = 8,
    n_duplicates: int = 40,
    n_article_queries: int = 30,
    n_novel: int = 20,
) -> dict[str, Any]:
    """Evaluation set for the support form, derived from the same templates as the data.

    * ``duplicates``: a re-worded description of the problem of a ``new`` ticket (same org):
      ``{"text", "organization_id", "expected_ticket_id", "acceptable_ticket_ids", "topic"}``;
      ``acceptable_ticket_ids`` also lists the org's other new/open/pending tickets about the same
      problem of the same topic (they are duplicates of each other);
    * ``articles``: a customer problem or question with the ids of that topic's articles:
      ``{"text", "expected_article_ids", "topic"}``;
    * ``novel``: a problem of a topic that no ticket of that org is about:
      ``{"text", "organization_id", "expected_ticket_id": None, "topic"}``.
    """
    orgs = [_org_info(k) for k in range(n_orgs)]
    rng = random.Random()
    cores = []
    org_topics: dict[int, set[str]] = {o["id"]: set() for o in orgs}
    for i in range(n_tickets):
        c = _make_ticket(rng, seed, i, n_tickets, orgs, False)
        cores.append((i, c.record["id"], c.record["status"], c.org["id"] if c.org else None, c.topic["key"],
                      c.problem, c.slots))
        if c.org:
            org_topics[c.org["id"]].add(c.topic["key"])
    erng = random.Random(_seed_for(seed, _K_EVAL, 0))

    # (a) duplicates: new tickets with an org, spread over topics round-robin
    by_topic: dict[str, list[tuple]] = {}
    for c in cores:
        if c[2] == "new" and c[3] is not None:
            by_topic.setdefault(c[4], []).append(c)
    chosen: list[tuple] = []
    pools = [by_topic[k] for k in TOPIC_KEYS if k in by_topic]
    depth = 0
    while len(chosen) < n_duplicates and any(depth < len(p) for p in pools):
        for p in pools:
            if depth < len(p) and len(chosen) < n_duplicates:
                chosen.append(p[depth])
        depth += 1
    chosen.sort(key=lambda c: c[0])
    duplicates = []
    for i, tid, _status, org_id, tkey, pi, slots in chosen:
        paras = _TOPIC_BY_KEY[tkey]["problems"][pi][2]
        text = paras[erng.randrange(len(paras))].format(**slots)
        prefix = _DUP_PREFIXES[erng.randrange(len(_DUP_PREFIXES))]
        if prefix.endswith(": "):
            text = prefix + text
        elif prefix:  # "..., but " + sentence continuing in lower case ("I" stays upper case)
            text = prefix + (text if text[:2] in ("I ", "I'") else text[:1].lower() + text[1:])
        # other open-ish tickets of the same org about the same problem are duplicates too
        same = sorted(c[1] for c in cores
                      if c[3] == org_id and c[4] == tkey and c[5] == pi and c[2] in ("new", "open", "pending"))
        duplicates.append({"text": text, "organization_id": org_id, "expected_ticket_id": tid,
                           "acceptable_ticket_ids": same, "topic": tkey})

    # (b) articles: questions and problem descriptions per topic, round-robin over topics
    ids_by_topic = article_ids_by_topic(n_articles)
    articles = []
    j = 0
    while len(articles) < n_article_queries and any(ids_by_topic.values()):
        topic = TOPICS[j % len(TOPICS)]
        rnd = j // len(TOPICS)
        j += 1
        if not ids_by_topic[topic["key"]]:
            continue
        slots = _slot_values(erng, topic)
        if rnd % 2 == 0:
            q = topic["questions"][(rnd // 2) % len(topic["questions"])]
        else:
            pi = erng.randrange(len(topic["problems"]))
            paras = topic["problems"][pi][2]
            q = paras[erng.randrange(len(paras))]
        articles.append({"text": q.format(**slots), "expected_article_ids": list(ids_by_topic[topic["key"]]),
                         "topic": topic["key"]})

    # (c) novel: (org, topic) pairs where the org has no ticket of that topic at all
    pairs = [(o, k) for k in TOPIC_KEYS for o in orgs if k not in org_topics[o["id"]]]
    # spread over orgs and topics deterministically
    pairs.sort(key=lambda p: (TOPIC_KEYS.index(p[1]) * 7 + p[0]["index"] * 3) % 11)
    erng.shuffle(pairs)
    novel = []
    seen_orgs: dict[int, int] = {}
    for o, k in pairs:
        if len(novel) >= n_novel:
            break
        if seen_orgs.get(o["id"], 0) >= max(3, n_novel // max(len(orgs), 1) + 1):
            continue
        seen_orgs[o["id"]] = seen_orgs.get(o["id"], 0) + 1
        topic = _TOPIC_BY_KEY[k]
        slots = _slot_values(erng, topic)
        pi = erng.randrange(len(topic["problems"]))
        paras = topic["problems"][pi][2]
        novel.append({"text": paras[erng.randrange(len(paras))].format(**slots), "organization_id": o["id"],
                      "expected_ticket_id": None, "topic": k})
    return {
        "generator": {"module": "destination_milvus_zendesk.zendesk_sample", "function": "build_eval_queries",
                      "n_tickets": n_tickets, "n_articles": n_articles, "seed": seed, "n_orgs": n_orgs},
        "duplicates": duplicates,
        "articles": articles,
        "novel": novel,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m destination_milvus_zendesk.zendesk_sample",
                                description="Print deterministic Zendesk sample Airbyte messages as JSON lines.")
    p.add_argument("--tickets", type=int, default=300)
    p.add_argument("--articles", type=int, default=40)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--orgs", type=int, default=8)
    p.add_argument("--mode", choices=MODES, default="initial")
    p.add_argument("--state-every", type=int, default=100, help="STATE every K records per stream (0: only at end)")
    p.add_argument("--raw-types", action="store_true",
                   help="custom field values in API types (bool/number/list) instead of normalized strings")
    p.add_argument("--catalog", action="store_true", help="print the configured catalog instead")
    p.add_argument("--sync-mode", default="append_dedup", help="destination_sync_mode for --catalog")
    p.add_argument("--eval-queries", action="store_true", help="print the evaluation query set instead")
    a = p.parse_args(argv)
    out = sys.stdout
    if a.catalog:
        out.write(json.dumps(configured_catalog(a.sync_mode), indent=2) + "\n")
        return 0
    if a.eval_queries:
        out.write(json.dumps(build_eval_queries(a.tickets, a.articles, seed=a.seed, n_orgs=a.orgs), indent=2,
                             ensure_ascii=False) + "\n")
        return 0
    buf = []
    write = sys.stdout.buffer.write if hasattr(sys.stdout, "buffer") else None
    for msg in generate_messages(a.tickets, a.articles, seed=a.seed, n_orgs=a.orgs, state_every=a.state_every,
                                 mode=a.mode, raw_types=a.raw_types):
        buf.append(dumps(msg))
        if len(buf) >= 512:
            chunk = "\n".join(buf) + "\n"
            write(chunk.encode("utf-8")) if write else out.write(chunk)
            buf.clear()
    if buf:
        chunk = "\n".join(buf) + "\n"
        write(chunk.encode("utf-8")) if write else out.write(chunk)
    out.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)
