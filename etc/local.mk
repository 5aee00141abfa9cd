# Shipped configuration for the example service.
gantryconfdir = $(sysconfdir)/gantry
dist_gantryconf_DATA = etc/gantry.cfg
gantryprofilesdir = $(sysconfdir)/gantry/profiles
dist_gantryprofiles_DATA = etc/profiles/staging.cfg etc/profiles/production.cfg
