"""The follow-up after needling: the patient's public form (behind a signed, expiring link) and the front
desk's "phoned" mark for one left unanswered. Views parse, call treatments.followup, and render."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import public, role_required
from accounts.models import Role
from audit.models import Action
from audit.services import record
from clinic.patient_links import LinkRefused, patient_page, read_token, refused_response

from . import followup
from .models import FollowUp

YES_NO = [("yes", "Yes"), ("no", "No")]


class FollowUpForm(forms.Form):
    soreness = forms.TypedChoiceField(
        label="How sore are you today, from 0 (not at all) to 10 (the worst you can imagine)?",
        choices=[(n, str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a number from 0 to 10.",
            "invalid_choice": "Choose a number from 0 to 10.",
        },
    )
    bruising = forms.ChoiceField(
        label="Do you have any bruising where the needles went in?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say yes or no.", "invalid_choice": "Say yes or no."},
    )
    short_of_breath = forms.BooleanField(label="Shortness of breath", required=False)
    chest_pain = forms.BooleanField(label="Chest pain", required=False)
    pain_breathing_in = forms.BooleanField(label="Pain when you breathe in", required=False)
    comment = forms.CharField(
        label="Anything else you want us to know (optional)",
        required=False,
        max_length=FollowUp._meta.get_field("comment").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # A field people never see (hidden by the stylesheet): a bot fills it, a patient does not.
    website = forms.CharField(required=False, label="Leave this empty")


@public
@never_cache
def follow_up_form(request, token):
    """The questionnaire behind the patient's link: no login, one follow-up only. An expired, altered or
    unknown link answers the same plain page (410); a second answer is refused with "call us"."""
    try:
        pk = read_token(followup.LINK_PURPOSE, token)
    except LinkRefused:
        return refused_response(request)
    follow_up = FollowUp.objects.select_related("session").filter(pk=pk).first()
    if follow_up is None:
        return refused_response(request)
    if follow_up.answered_at is not None:
        return patient_page(request, "treatments/follow_up_answered.html")
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            # A bot: nothing saved, and nothing to tell it apart from a refused form.
            form.add_error(None, "Something went wrong; please call us.")
        else:
            data = form.cleaned_data
            try:
                answered = followup.answer(
                    follow_up,
                    soreness=data["soreness"],
                    bruising=data["bruising"] == "yes",
                    short_of_breath=data["short_of_breath"],
                    chest_pain=data["chest_pain"],
                    pain_breathing_in=data["pain_breathing_in"],
                    comment=data["comment"],
                    request=request,
                )
            except followup.AlreadyAnswered:
                return patient_page(request, "treatments/follow_up_answered.html")
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                return patient_page(request, "treatments/follow_up_thanks.html", {"follow_up": answered})
    if request.method == "GET":
        record(
            Action.VIEW,
            request=request,
            obj=follow_up.session,
            patient_id=follow_up.session.patient_id,
            detail="follow-up questionnaire opened from the patient's link",
        )
    return patient_page(
        request, "treatments/follow_up_form.html", {"form": form}, 200 if request.method == "GET" else 400
    )


@role_required(Role.FRONT_DESK, Role.MANAGER)
@require_POST
def follow_up_phoned(request, pk):
    """Mark an unanswered follow-up as phoned, with a note. The desk may: it reads no clinical answer."""
    follow_up = get_object_or_404(FollowUp.objects.select_related("session"), pk=pk)
    try:
        followup.mark_phoned(follow_up, by=request.user, note=request.POST.get("note", ""), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Marked phoned.")
    return redirect("home")
