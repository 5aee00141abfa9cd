# plugin loader and its refusal fixtures
