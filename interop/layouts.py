"""The columns of Jane's and Cliniko's exports, and what each becomes here (docs/import.md lists them, with
what could and could not be confirmed). A header is recognised by its letters and digits alone, case
ignored ("Date of Birth", "date_of_birth" and "DATE OF BIRTH" are one), so small differences between
export versions still map; anything else is shown to the administrator, who maps it or leaves it out."""

import re

IGNORE = ""

# Target fields: (key, label, required).
PATIENT_FIELDS = [
    ("source_id", "Id in the source system", True),
    ("given_name", "Given (first) name", True),
    ("family_name", "Family (last) name", True),
    ("preferred_name", "Preferred name", False),
    ("date_of_birth", "Date of birth", True),
    ("sex", "Sex", False),
    ("gender", "Gender identity", False),
    ("phn", "BC Personal Health Number", False),
    ("email", "E-mail", False),
    ("phone_mobile", "Mobile phone", False),
    ("phone_home", "Home phone", False),
    ("phone_work", "Work phone", False),
    ("address_1", "Address line 1", False),
    ("address_2", "Address line 2", False),
    ("address_3", "Address line 3", False),
    ("city", "City", False),
    ("province", "Province / state", False),
    ("postal_code", "Postal code", False),
    ("country", "Country", False),
    ("emergency_contact_name", "Emergency contact: name", False),
    ("emergency_contact_phone", "Emergency contact: phone", False),
    ("emergency_contact_relationship", "Emergency contact: relationship", False),
    ("referral_source", "Referral source", False),
]
APPOINTMENT_FIELDS = [
    ("source_id", "Appointment id in the source system", False),
    ("patient_source_id", "Patient's id in the source system", True),
    ("patient_name", "Patient's name (shown in refusals only)", False),
    ("practitioner", "Practitioner (name or e-mail)", True),
    ("type", "Appointment type", False),
    ("location", "Location", False),
    ("start", "Start (date and time)", False),
    ("date", "Date (with a separate start time)", False),
    ("start_time", "Start time (with a separate date)", False),
    ("end", "End (date and time, or time)", False),
    ("duration", "Length in minutes", False),
    ("status", "Status", False),
    ("cancelled_at", "Cancelled at", False),
    ("cancel_reason", "Cancellation reason", False),
    ("cancel_note", "Cancellation note", False),
    ("did_not_arrive", "Did not arrive (no-show)", False),
    ("arrived", "Arrived", False),
    ("notes", "Booking notes", False),
]
FIELDS = {"patients": PATIENT_FIELDS, "appointments": APPOINTMENT_FIELDS}


def norm(header):
    return re.sub(r"[^a-z0-9]", "", header.lower())


# The export columns of each system, as docs/import.md lists them: header -> field (IGNORE: known, not
# imported). Unconfirmed headers are marked so there.
JANE_PATIENTS = {
    "Patient Number": "source_id",
    "First Name": "given_name",
    "Preferred Name": "preferred_name",
    "Last Name": "family_name",
    "Birth Date": "date_of_birth",
    "Sex": "sex",
    "Gender": "gender",
    "Email": "email",
    "Mobile Phone": "phone_mobile",
    "Home Phone": "phone_home",
    "Work Phone": "phone_work",
    "Address": "address_1",
    "Address 2": "address_2",
    "City": "city",
    "Province": "province",
    "Postal Code": "postal_code",
    "Country": "country",
    "Health Number": "phn",
    "Emergency Contact Name": "emergency_contact_name",
    "Emergency Contact Relationship": "emergency_contact_relationship",
    "Emergency Contact Phone": "emergency_contact_phone",
    "Referred By": "referral_source",
}
JANE_APPOINTMENTS = {
    "Date": "date",
    "Start Time": "start_time",
    "End Time": "end",
    "Patient Number": "patient_source_id",
    "Patient": "patient_name",
    "Staff Member": "practitioner",
    "Treatment": "type",
    "Location": "location",
    "Status": "status",
    "Notes": "notes",
}
CLINIKO_PATIENTS = {
    "ID": "source_id",
    "Title": IGNORE,
    "First Name": "given_name",
    "Preferred First Name": "preferred_name",
    "Last Name": "family_name",
    "Date of Birth": "date_of_birth",
    "Sex": "sex",
    "Gender Identity": "gender",
    "Email": "email",
    "Mobile Phone": "phone_mobile",
    "Home Phone": "phone_home",
    "Work Phone": "phone_work",
    "Address 1": "address_1",
    "Address 2": "address_2",
    "Address 3": "address_3",
    "City": "city",
    "State": "province",
    "Post Code": "postal_code",
    "Country": "country",
    "Emergency Contact": "emergency_contact_name",
    "Referral Source": "referral_source",
    "Pronouns": IGNORE,
    "Fax": IGNORE,
    "Other Phone": IGNORE,
    "Occupation": IGNORE,
    "Medicare": IGNORE,
    "Medicare Reference Number": IGNORE,
    "DVA Card Number": IGNORE,
    "Health Fund": IGNORE,
    "Health Fund Member Number": IGNORE,
    "Reminder Type": IGNORE,
    "Invoice To": IGNORE,
    "Invoice Email": IGNORE,
    "Invoice Extra Information": IGNORE,
    "Notes": IGNORE,
    "Appointment Notes": IGNORE,
    "Unapplied Account Credit": IGNORE,
    "Created At": IGNORE,
    "Updated At": IGNORE,
    "Archived At": IGNORE,
}
CLINIKO_APPOINTMENTS = {
    "ID": "source_id",
    "Patient ID": "patient_source_id",
    "Patient": "patient_name",
    "Practitioner": "practitioner",
    "Appointment Type": "type",
    "Business": "location",
    "Start Time": "start",
    "End Time": "end",
    "Did Not Arrive": "did_not_arrive",
    "Patient Arrived": "arrived",
    "Cancelled At": "cancelled_at",
    "Cancellation Reason": "cancel_reason",
    "Cancellation Note": "cancel_note",
    "Notes": "notes",
    "Created At": IGNORE,
}
LAYOUTS = {
    ("jane", "patients"): JANE_PATIENTS,
    ("jane", "appointments"): JANE_APPOINTMENTS,
    ("cliniko", "patients"): CLINIKO_PATIENTS,
    ("cliniko", "appointments"): CLINIKO_APPOINTMENTS,
}
# Other spellings seen in either system (API field names, older exports), for any source.
ALIASES = {
    "patients": {
        "patientid": "source_id",
        "firstname": "given_name",
        "givenname": "given_name",
        "lastname": "family_name",
        "surname": "family_name",
        "familyname": "family_name",
        "preferredfirstname": "preferred_name",
        "dateofbirth": "date_of_birth",
        "birthdate": "date_of_birth",
        "dob": "date_of_birth",
        "genderidentity": "gender",
        "emailaddress": "email",
        "mobile": "phone_mobile",
        "cellphone": "phone_mobile",
        "phone": "phone_mobile",
        "address1": "address_1",
        "address2": "address_2",
        "address3": "address_3",
        "postcode": "postal_code",
        "zip": "postal_code",
        "phn": "phn",
        "personalhealthnumber": "phn",
        "healthcardnumber": "phn",
        "referralsource": "referral_source",
    },
    "appointments": {
        "appointmentid": "source_id",
        "patientnumber": "patient_source_id",
        "patientname": "patient_name",
        "staffmember": "practitioner",
        "practitionername": "practitioner",
        "appointmenttype": "type",
        "treatment": "type",
        "business": "location",
        "starttime": "start",
        "appointmentstart": "start",
        "startsat": "start",
        "endtime": "end",
        "appointmentend": "end",
        "endsat": "end",
        "durationminutes": "duration",
        "duration": "duration",
        "didnotarrive": "did_not_arrive",
        "patientarrived": "arrived",
        "cancelledat": "cancelled_at",
        "cancellationreason": "cancel_reason",
        "cancellationnote": "cancel_note",
    },
}


def known_headers(system, kind):
    return {norm(h): f for h, f in LAYOUTS[(system, kind)].items()}


def detect_system(header):
    """The system whose patient export the header matches best ("jane" or "cliniko"), or None when it
    matches neither at all."""
    names = {norm(h) for h in header}
    scores = {system: len(names & set(known_headers(system, "patients"))) for system in ("jane", "cliniko")}
    best = max(scores, key=lambda s: (scores[s], s == "jane"))
    return best if scores[best] else None


def guess_mapping(header, system, kind):
    """{header: field or IGNORE} for every column: the system's own layout first, then other known
    spellings. A field is given to one column only (the first that claims it)."""
    own, other = known_headers(system, kind), ALIASES[kind]
    mapping, taken = {}, set()
    for name in header:
        key = norm(name)
        target = own.get(key, other.get(key, IGNORE) if key not in own else IGNORE)
        if target and target in taken:
            target = IGNORE
        mapping[name] = target
        taken.add(target)
    return mapping


def unknown_columns(header, system, kind):
    """Headers that neither the system's layout nor the known spellings name."""
    own, other = known_headers(system, kind), ALIASES[kind]
    return [h for h in header if norm(h) not in own and norm(h) not in other]
