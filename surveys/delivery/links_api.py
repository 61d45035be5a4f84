"""Management API of survey links: `/api/v1/surveys/{id}/links` (list, create), one link,
its deactivation, and its QR code as PNG or SVG. Read for every role, changes for admins
and designers (surveys.tenancy.roles); a secret key acts as admin. Everything is found
through `request.access.project`: another project's survey or link is a 404."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from surveys.delivery.link_qr import qr_response
from surveys.delivery.link_selectors import link_of_survey, link_url, survey_links
from surveys.delivery.links import link_create, link_deactivate
from surveys.delivery.models import LinkMode, SurveyLink
from surveys.design.models import Survey
from surveys.journey.api import DesignApi
from surveys.journey.channels import LINK_CHANNEL_CHOICES
from vocsite.api_errors import ERRORS
from vocsite.ids import id_or_404


class LinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField(source="survey_id")
    label = serializers.CharField()
    channel = serializers.CharField()
    touchpoint = serializers.SerializerMethodField()
    hidden_fields = serializers.ListField(child=serializers.CharField())
    mode = serializers.CharField()
    active = serializers.BooleanField()
    url = serializers.SerializerMethodField(help_text="The public address the QR code holds.")
    qr_png = serializers.SerializerMethodField()
    qr_svg = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField(help_text="Finished answers through the link.")
    created_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)

    def get_touchpoint(self, link: SurveyLink) -> str | None:
        return link.touchpoint.key if link.touchpoint_id else None

    def get_url(self, link: SurveyLink) -> str:
        return link_url(link)

    def _qr(self, link: SurveyLink, kind: str) -> str:
        path = reverse(f"api-survey-link-qr-{kind}", args=[link.survey_id, link.pk])
        return self.context["request"].build_absolute_uri(path)

    def get_qr_png(self, link: SurveyLink) -> str:
        return self._qr(link, "png")

    def get_qr_svg(self, link: SurveyLink) -> str:
        return self._qr(link, "svg")

    def get_answers(self, link: SurveyLink) -> int:
        return getattr(link, "answers", 0)


class LinkInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    channel = serializers.ChoiceField(choices=LINK_CHANNEL_CHOICES)
    touchpoint = serializers.SlugField(
        max_length=100, required=False, allow_null=True, help_text="A touchpoint key."
    )
    hidden_fields = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        max_length=10,
        help_text="Query parameters whose values (`?store=sh-021`) are kept on each answer "
        "as breakdown values.",
    )
    mode = serializers.ChoiceField(choices=LinkMode.choices, default=LinkMode.ANONYMOUS)


def _survey(request, survey_id: int) -> Survey:
    return get_object_or_404(
        Survey.objects.filter(project=request.access.project), pk=id_or_404(survey_id)
    )


def _link(request, survey_id: int, link_id: int) -> SurveyLink:
    link = link_of_survey(project=request.access.project, survey_id=survey_id, link_id=link_id)
    if link is None:
        raise Http404
    return link


def _output(request, link: SurveyLink) -> dict:
    return LinkOutputSerializer(link, context={"request": request}).data


class LinkListCreateApi(DesignApi):
    @extend_schema(
        operation_id="survey_links_list",
        responses={200: LinkOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request, survey_id: int):
        survey = _survey(request, survey_id)
        links = survey_links(project=request.access.project, survey=survey)
        return Response(LinkOutputSerializer(links, many=True, context={"request": request}).data)

    @extend_schema(
        request=LinkInputSerializer,
        description="A new active link. Anonymous links ask nobody who they are; "
        "`single_use_per_contact` links take one answer per respondent named by signed "
        "`user_id` and `user_hash` parameters.",
        responses={201: LinkOutputSerializer, **ERRORS},
    )
    def post(self, request, survey_id: int):
        survey = _survey(request, survey_id)
        data = LinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        link = link_create(
            project=request.access.project,
            survey=survey,
            label=values["label"],
            channel=values["channel"],
            touchpoint_key=values.get("touchpoint"),
            hidden_fields=values["hidden_fields"],
            mode=values["mode"],
            actor=request.user,
        )
        link = survey_links(project=request.access.project, survey=survey).get(pk=link.pk)
        return Response(_output(request, link), status=status.HTTP_201_CREATED)


class LinkDetailApi(DesignApi):
    @extend_schema(
        operation_id="survey_links_retrieve", responses={200: LinkOutputSerializer, **ERRORS}
    )
    def get(self, request, survey_id: int, link_id: int):
        link = _link(request, survey_id, link_id)
        counted = survey_links(project=request.access.project, survey=link.survey).get(pk=link.pk)
        return Response(_output(request, counted))


class LinkDeactivateApi(DesignApi):
    @extend_schema(
        request=None,
        description="The link answers 404 from now on; its answers stay. Idempotent.",
        responses={200: LinkOutputSerializer, **ERRORS},
    )
    def post(self, request, survey_id: int, link_id: int):
        link = link_deactivate(link=_link(request, survey_id, link_id), actor=request.user)
        counted = survey_links(project=request.access.project, survey=link.survey).get(pk=link.pk)
        return Response(_output(request, counted))


class LinkQrApi(DesignApi):
    """The QR code of the link's public address (`url`), as a download."""

    kind: str = "png"

    def perform_content_negotiation(self, request, force=False):
        # An image client's `Accept: image/png` matches no JSON renderer: the image is sent
        # whatever it asks for, and errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, survey_id: int, link_id: int):
        return qr_response(_link(request, survey_id, link_id), self.kind)


class LinkQrPngApi(LinkQrApi):
    kind = "png"

    @extend_schema(
        operation_id="survey_links_qr_png",
        responses={(200, "image/png"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, survey_id: int, link_id: int):
        return super().get(request, survey_id, link_id)


class LinkQrSvgApi(LinkQrApi):
    kind = "svg"

    @extend_schema(
        operation_id="survey_links_qr_svg",
        responses={(200, "image/svg+xml"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, survey_id: int, link_id: int):
        return super().get(request, survey_id, link_id)
