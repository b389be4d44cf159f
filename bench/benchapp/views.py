"""The minimal endpoint: the same server, middleware, session authentication and CSRF check as
POST /api/v1/incidents, but it only inserts one row with the ORM."""

from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.benchapp.models import BenchRow


class MinimalInsertApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        row = BenchRow.objects.create(note=str(request.data.get("note", ""))[:200])
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
