from rest_framework.response import Response
from rest_framework.views import APIView


class AppsView(APIView):
    """Token-protected endpoint: 200 {"user": name}, or DRF's 401 "Invalid token."."""

    def get(self, request):
        return Response({"user": request.user.username})
