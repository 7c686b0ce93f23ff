def navigation(request):
    """The role of the signed-in user, for the navigation in the base template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_role": user.role}
