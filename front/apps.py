from django.apps import AppConfig


class FrontConfig(AppConfig):
    """
    The composition app: the pages and commands that put every app together (dashboard,
    navigation, demo seeding). It may import any app; no app imports it.
    """

    name = "front"
    verbose_name = "FlowPilot"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts.selectors import SettingsRow, register_settings_row

        admin.site.site_header = "FlowPilot administration"
        admin.site.site_title = "FlowPilot admin"
        admin.site.index_title = "Administration"
        from front import audit_labels
        from front.tickets import link_created_ticket, session_ticket_links, ticket_session_actions
        from psa.ports import register_ticket_actions, register_ticket_created
        from psa.selectors import ticket_for_prompt
        from psa.services.writeback import TicketWriteback
        from sessions_app.ports import (
            register_ticket_details,
            register_ticket_links,
            register_ticket_writeback,
        )

        audit_labels.register()

        # Resolving or escalating a session linked to a ticket writes back to the PSA.
        register_ticket_writeback(TicketWriteback())
        register_ticket_actions("sessions", ticket_session_actions)
        register_ticket_created("sessions", link_created_ticket)
        register_ticket_links(session_ticket_links)
        # The assistant sees the linked ticket's company, summary and description.
        register_ticket_details(ticket_for_prompt)

        # Shown once the PSA app serves its settings page (a missing URL hides the row).
        register_settings_row(
            SettingsRow(
                key="psa",
                label="PSA integration",
                help="ConnectWise Manage connection and write-back.",
                url_name="psa-settings",
                audience="owner",
            ),
            after="security",
        )
