"""Forms of the deliberation pages: they parse and check the shape of the input; the services
check the rules (and their field messages are put back on the form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deliberation.models import ParticipantKind, ProposalCategory, VotingRule
from deliberation.photos import MAX_PHOTOS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/*", "multiple": True})

    def clean(self, data, initial=None):  # type: ignore[no-untyped-def]
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS})
        return [super(MultiplePhotoField, self).clean(item, initial) for item in files]


DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ProposalCategory.objects.filter(active=True)
    )
    description = forms.CharField(
        label=_("What should be done, and why"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
    )
    address = forms.CharField(label=_("Place (in words)"), max_length=255, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False)
    photos = MultiplePhotoField(label=_("Photos"), required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Why it is hidden"), max_length=255)


class ReviewForm(forms.Form):
    DECISIONS = [
        ("accept", _("Accept for consultation")),
        ("merge", _("Merge with another proposal")),
        ("answer", _("Answer directly")),
        ("decline", _("Decline")),
    ]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS)
    reply = forms.CharField(
        label=_("Public answer or reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    merge_into = forms.IntegerField(label=_("Merge into (proposal)"), required=False)


class ConvertForm(forms.Form):
    kind = forms.ChoiceField(label=_("Convert into"), choices=[])
    option = forms.CharField(label=_("Category or service"), required=False, max_length=32)

    def __init__(self, *args, converters=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(c.kind, c.label) for c in converters]


class MeetingForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=None)  # type: ignore[arg-type]
    title = forms.CharField(label=_("Title"), max_length=120)
    place = forms.CharField(label=_("Place"), max_length=255)
    starts_at = forms.DateTimeField(
        label=_("Date and time"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    agenda = forms.CharField(
        label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=4000
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics (accepted proposals)"),
        queryset=None,
        required=False,  # type: ignore[arg-type]
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, communities=None, topics=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["topics"].queryset = topics


class ParticipantForm(forms.Form):
    kind = forms.ModelChoiceField(
        label=_("Kind"), queryset=ParticipantKind.objects.filter(active=True)
    )
    name = forms.CharField(label=_("Name"), max_length=64)
    organisation = forms.CharField(label=_("Organisation"), max_length=120, required=False)


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    options_discussed = forms.CharField(
        label=_("Options discussed"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=8000,
    )
    speaker = forms.IntegerField(label=_("Who spoke"), required=False)
    speech = forms.CharField(
        label=_("What they said"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )


class DecisionForm(forms.Form):
    text = forms.CharField(
        label=_("What was agreed"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    carried_by = forms.CharField(label=_("Carried out by"), max_length=120)
    due_date = forms.DateField(label=_("To be done by"), widget=DATE)
    proposal = forms.IntegerField(label=_("On the topic"), required=False)


class ProgressForm(forms.Form):
    note = forms.CharField(
        label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    photos = MultiplePhotoField(label=_("Photos"), required=False)
    complete = forms.BooleanField(label=_("This completes it"), required=False)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("Your rating"), coerce=int, choices=[(n, "★" * n) for n in range(5, 0, -1)]
    )
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class RoundForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Community or street"), queryset=None)  # type: ignore[arg-type]
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    total = forms.DecimalField(
        label=_("Total amount (yuan)"), max_digits=12, decimal_places=2, min_value=0
    )
    rule = forms.ChoiceField(label=_("Voting rule"), choices=VotingRule.choices)
    votes_per_voter = forms.IntegerField(
        label=_("Votes per resident"), initial=3, min_value=1, max_value=50
    )
    collect_opens_at = forms.DateTimeField(
        label=_("Collection opens"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    collect_closes_at = forms.DateTimeField(
        label=_("Collection closes"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    review_closes_at = forms.DateTimeField(
        label=_("Review closes"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    vote_opens_at = forms.DateTimeField(
        label=_("Voting opens"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    vote_closes_at = forms.DateTimeField(
        label=_("Voting closes"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )

    def __init__(self, *args, regions=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions


class BudgetProjectForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    estimated_cost = forms.DecimalField(
        label=_("Estimated cost (yuan)"), max_digits=12, decimal_places=2, min_value=0
    )


class ProjectReviewForm(forms.Form):
    feasible = forms.TypedChoiceField(
        label=_("Feasible?"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Feasible")), ("no", _("Not feasible"))],
    )
    reason = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )
    corrected_cost = forms.DecimalField(
        label=_("Corrected cost (yuan)"), max_digits=12, decimal_places=2, required=False
    )


class BallotForm(forms.Form):
    projects = forms.TypedMultipleChoiceField(
        label=_("Your choice"), coerce=int, choices=[], widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, projects=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["projects"].choices = [(p.pk, p.title) for p in projects]


class LibraryProjectForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Community or street"), queryset=None)  # type: ignore[arg-type]
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    budget = forms.DecimalField(
        label=_("Budget (yuan)"), max_digits=12, decimal_places=2, required=False, min_value=0
    )

    def __init__(self, *args, regions=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=120)
    due_date = forms.DateField(label=_("Planned for"), widget=DATE)


class SpendingForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("What for"), max_length=255)
    spent_on = forms.DateField(label=_("Date"), widget=DATE)
