"""
A fixed relevance corpus written for this project: resolved sessions over fourteen problem
families (several distinct sessions per family, so a query has to find the right one, not just
the right family) and queries with the session each must find first. It drives the relevance
test (both engines) and seeds the demo's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PastSession:
    key: str
    family: str
    problem: str
    facts: tuple[str, ...]
    fix: str
    fix_description: str
    cause: str
    outcome: str = "applied_success"
    failed: tuple[tuple[str, str], ...] = ()
    script: str = ""
    parameters: tuple[dict[str, object], ...] = field(default=())
    ticket: str = ""

    @property
    def note(self) -> str:
        return (
            f"## Problem\n{self.problem}\n\n## Root cause\n{self.cause}\n\n"
            f"## Resolution\n{self.fix}. {self.fix_description}"
        )


S = PastSession
SESSIONS: tuple[PastSession, ...] = (
    # --- Outlook ---------------------------------------------------------------------------
    S(
        "outlook-password",
        "outlook",
        "Outlook keeps asking for the password after the user changed her password",
        (
            "Prompt appears every few minutes since the password change on Monday",
            "Credential Manager holds old MicrosoftOffice16 entries",
            "OWA works with the new password",
        ),
        "Clear cached Office credentials",
        "Removed the stale MicrosoftOffice16 entries from "
        "Credential Manager and signed in again with the new password.",
        "Stale cached credentials in Windows Credential Manager after the password change.",
        failed=(("Repair the Office installation", "Quick repair changed nothing"),),
        script="cmdkey /list | Select-String MicrosoftOffice16 |"
        " ForEach-Object { cmdkey /delete:$_ }",
        ticket="48213",
    ),
    S(
        "outlook-ost",
        "outlook",
        "Outlook search returns nothing and folders show old mail, OST file is 48 GB",
        ("OST file is 48 GB and scanpst reports errors", "Mail arrives fine in OWA"),
        "Rebuild the OST file",
        "Closed Outlook, renamed the OST so Outlook rebuilt the cache "
        "from Exchange Online overnight.",
        "Corrupt oversized offline cache (OST).",
        script='Rename-Item "$env:LOCALAPPDATA\\Microsoft\\Outlook\\{{ost_name}}" '
        '"{{ost_name}}.old"',
        parameters=({"name": "ost_name", "type": "string", "default": "user@contoso.com.ost"},),
    ),
    S(
        "outlook-connecting",
        "outlook",
        "Outlook stuck on Trying to connect, status bar says disconnected",
        (
            "Started after moving the mailbox to Exchange Online",
            "Registry has EnableADAL set to 0 from an old GPO",
        ),
        "Re-enable modern authentication (ADAL)",
        "Set EnableADAL back to 1 and removed the "
        "legacy GPO so Outlook uses modern authentication.",
        "Modern authentication disabled by a legacy registry policy.",
    ),
    S(
        "outlook-shared",
        "outlook",
        "Shared mailbox for accounts department does not appear in Outlook",
        ("Full access granted yesterday", "Automapping was disabled when permission was added"),
        "Re-grant full access with automapping",
        "Removed and re-added the mailbox permission "
        "with AutoMapping true; the mailbox appeared after restarting Outlook.",
        "Permission added with automapping turned off.",
    ),
    # --- VPN -------------------------------------------------------------------------------
    S(
        "vpn-dpd",
        "vpn",
        "FortiClient VPN tunnel drops every few minutes for remote staff",
        (
            "FortiGate logs show dead peer detection timeouts",
            "Happens on home broadband with CGNAT",
            "dpd-retryinterval was 5 seconds",
        ),
        "Raise FortiGate DPD retry interval",
        "Changed the IPsec phase 1 dpd-retryinterval to "
        "20 and dpd-retrycount to 5 on the FortiGate; tunnels stayed up all day.",
        "Aggressive dead peer detection on the FortiGate dropping tunnels on lossy links.",
        failed=(("Reinstall FortiClient", "Tunnel still dropped after reinstall"),),
        ticket="50110",
    ),
    S(
        "vpn-dns",
        "vpn",
        "VPN connects but internal server names do not resolve",
        (
            "Ping by IP address works over the tunnel",
            "Split DNS domain was missing from the SSL VPN portal",
        ),
        "Add split DNS suffix to the VPN portal",
        "Added corp.contoso.local to the split DNS "
        "domains and pushed the internal DNS servers to VPN clients.",
        "Split DNS not configured, so clients asked their home router.",
    ),
    S(
        "vpn-98",
        "vpn",
        "FortiClient hangs at 98 percent while connecting",
        ("Only on Windows 11 laptops", "TLS 1.2 disabled in Internet Options"),
        "Enable TLS 1.2 for FortiClient",
        "Enabled TLS 1.2 in Internet Options and the registry; the connection completes.",
        "FortiClient SSL VPN could not negotiate TLS.",
    ),
    S(
        "vpn-mtu",
        "vpn",
        "VPN from hotel Wi-Fi connects but large file copies stall",
        ("Small pings work, large packets fragment", "MTU path discovery blocked by the hotel"),
        "Lower the VPN adapter MTU",
        "Set the tunnel adapter MTU to 1300.",
        "Fragmentation on networks that block PMTU discovery.",
        outcome="applied_partial",
    ),
    # --- Printing --------------------------------------------------------------------------
    S(
        "print-spooler",
        "printing",
        "Print spooler service keeps crashing on the front desk PC",
        ("Event 7031 for the Print Spooler service", "Corrupt job files in the spool folder"),
        "Clear the spool folder and restart the spooler",
        "Stopped the spooler, deleted the files in System32\\spool\\PRINTERS and started it again.",
        "A corrupt print job crashed the spooler on every start.",
    ),
    S(
        "print-port",
        "printing",
        "Printer shows offline for everyone after the network change",
        ("Printer got a new IP address from DHCP", "The TCP/IP port still points to the old IP"),
        "Reserve the printer IP and fix the port",
        "Created a DHCP reservation and updated the standard TCP/IP port on the print server.",
        "Printer IP changed, queue pointed at the old address.",
    ),
    S(
        "print-driver",
        "printing",
        "Users asked for admin credentials when adding the office printer",
        (
            "Started after the September cumulative update",
            "RestrictDriverInstallationToAdministrators is 1",
        ),
        "Deploy the printer driver through Group Policy",
        "Pushed the signed driver with a package point-and-print policy.",
        "PrintNightmare hardening requires admin rights to install drivers.",
    ),
    S(
        "print-stuck",
        "printing",
        "Print jobs sit in the queue of the shared warehouse printer",
        ("Jobs show Printing but nothing comes out", "Printer web page shows paper jam cleared"),
        "Power cycle the printer and purge the queue",
        "Purged the queue and power cycled; jobs printed again.",
        "Printer firmware hung after a paper jam.",
    ),
    # --- Account lockout -------------------------------------------------------------------
    S(
        "lockout-phone",
        "lockout",
        "Account locked out several times a day since the password change",
        (
            "Lockout source is the Exchange ActiveSync endpoint",
            "User's old phone still has the previous password",
        ),
        "Remove the old phone's mail profile",
        "Removed the mail account from the old phone and unlocked the account.",
        "An old phone retrying ActiveSync with the previous password.",
    ),
    S(
        "lockout-drive",
        "lockout",
        "User gets locked out every morning at logon",
        (
            "Lockout source is the file server",
            "A mapped drive uses stored credentials from before the password change",
        ),
        "Remove stored credentials for the mapped drive",
        "Deleted the saved credential with cmdkey and remapped the drive with current sign-in.",
        "Saved drive credentials retrying the old password.",
    ),
    S(
        "lockout-task",
        "lockout",
        "Service account keeps locking out overnight",
        (
            "Lockout events at 02:00 from the backup server",
            "A scheduled task runs as the account with the old password",
        ),
        "Update the scheduled task credentials",
        "Updated the task's run-as password and moved it to a managed service account.",
        "Scheduled task running with an expired password.",
    ),
    # --- Disk space ------------------------------------------------------------------------
    S(
        "disk-winsxs",
        "disk",
        "C drive full on the accounting PC, Windows updates fail",
        ("WinSxS folder is 22 GB", "Less than 1 GB free on C:"),
        "Clean up the component store",
        "Ran DISM StartComponentCleanup and Disk Cleanup for Windows Update files; 15 GB freed.",
        "Component store bloated by superseded updates.",
        script="Dism.exe /Online /Cleanup-Image /StartComponentCleanup",
    ),
    S(
        "disk-sqllog",
        "disk",
        "Database server disk full, SQL transaction log huge",
        ("LDF file is 180 GB", "Database in full recovery model with no log backups"),
        "Back up and shrink the SQL log",
        "Took a log backup, shrank the log file and scheduled log backups every 15 minutes.",
        "Full recovery model without log backups.",
    ),
    S(
        "disk-iis",
        "disk",
        "Web server running out of space, inetpub logs folder growing",
        ("IIS logs folder is 60 GB", "No log retention configured"),
        "Add IIS log retention",
        "Scheduled a task deleting IIS logs older than 30 days.",
        "IIS logs kept forever.",
    ),
    # --- OneDrive --------------------------------------------------------------------------
    S(
        "onedrive-path",
        "onedrive",
        "OneDrive refuses to sync some files in the projects folder",
        ("Affected files have paths over 400 characters", "Sync icon shows a red cross"),
        "Shorten the folder structure",
        "Moved the deep project folders up two levels so full "
        "paths stay under the path length limit.",
        "File path too long for OneDrive.",
    ),
    S(
        "onedrive-stuck",
        "onedrive",
        "OneDrive stuck on processing changes for days",
        ("Sync app shows Processing 0 KB of 2 GB", "Reset never attempted"),
        "Reset the OneDrive sync client",
        "Ran onedrive.exe /reset and let it resync.",
        "Sync client database stuck.",
    ),
    S(
        "onedrive-conflict",
        "onedrive",
        "SharePoint library sync creates duplicate files with the computer name",
        ("Two users edit the same Excel offline", "Files named Budget-LAPTOP42.xlsx appear"),
        "Use co-authoring instead of offline edits",
        "Enabled Files On-Demand and taught the "
        "team to open files from SharePoint for co-authoring.",
        "Offline edits causing sync conflicts.",
    ),
    # --- Teams -----------------------------------------------------------------------------
    S(
        "teams-camera",
        "teams",
        "Camera not detected in Teams meetings on the new laptop",
        (
            "Camera missing in the Windows Camera app too",
            "Privacy setting blocks camera for desktop apps",
        ),
        "Allow desktop apps to use the camera",
        "Turned on camera access for desktop apps in Windows privacy settings.",
        "Windows privacy setting blocking the camera.",
    ),
    S(
        "teams-echo",
        "teams",
        "Colleagues hear an echo when the user talks in Teams calls",
        ("Happens with the USB headset only", "Exclusive mode enabled on the headset"),
        "Disable exclusive mode on the headset",
        "Unticked allow applications to take exclusive control in the sound settings.",
        "Headset exclusive mode fighting Teams audio processing.",
    ),
    S(
        "teams-signin",
        "teams",
        "Teams stuck in a sign-in loop after the tenant migration",
        ("Web version of Teams works", "Old tenant cached in the Teams cache folder"),
        "Clear the Teams cache",
        "Quit Teams, deleted the cache folder and signed in again.",
        "Cached tokens for the old tenant.",
    ),
    # --- RDP -------------------------------------------------------------------------------
    S(
        "rdp-credssp",
        "rdp",
        "Remote desktop fails with CredSSP encryption oracle remediation error",
        ("Client patched, server missing the May update", "Error mentions encryption oracle"),
        "Patch the server for CredSSP",
        "Installed the missing cumulative update on the server.",
        "CredSSP mismatch between patched client and unpatched server.",
    ),
    S(
        "rdp-disconnect",
        "rdp",
        "RDP session disconnects every few minutes from home",
        ("UDP transport in use", "Home router drops UDP after idle"),
        "Force RDP over TCP",
        "Set the client policy to turn off UDP transport.",
        "UDP transport unstable through the home router.",
    ),
    S(
        "rdp-cert",
        "rdp",
        "Remote desktop shows an internal error right after connecting",
        ("RDP self-signed certificate expired", "Event log shows Schannel errors"),
        "Regenerate the RDP certificate",
        "Deleted the expired certificate from the Remote Desktop store and restarted the service.",
        "Expired RDP listener certificate.",
    ),
    # --- DNS -------------------------------------------------------------------------------
    S(
        "dns-stale",
        "dns",
        "Intranet site resolves to an old server address",
        ("nslookup returns the decommissioned server IP", "DNS scavenging is disabled"),
        "Remove the stale record and enable scavenging",
        "Deleted the stale A record, enabled aging and scavenging on the zone.",
        "Stale DNS record never scavenged.",
    ),
    S(
        "dns-forwarder",
        "dns",
        "Nobody can browse the internet but internal sites work",
        ("DNS forwarders point to the old ISP resolvers", "External names time out"),
        "Update the DNS forwarders",
        "Replaced the forwarders with working public resolvers.",
        "Dead DNS forwarders.",
    ),
    S(
        "dns-dhcp",
        "dns",
        "Laptops cannot reach the file server by name on the office network",
        ("DHCP hands out 8.8.8.8 as DNS", "Internal zone unknown to public DNS"),
        "Point DHCP at the internal DNS servers",
        "Changed DHCP option 6 to the domain controllers.",
        "DHCP distributing public DNS servers.",
    ),
    # --- Certificates ----------------------------------------------------------------------
    S(
        "cert-expired",
        "certificates",
        "Browser shows certificate warning on the internal web app",
        ("Certificate expired last Friday", "Issued by the internal CA"),
        "Renew the web server certificate",
        "Requested a new certificate from the internal CA and bound it in IIS.",
        "Expired TLS certificate.",
    ),
    S(
        "cert-wifi",
        "certificates",
        "New laptops cannot join the corporate Wi-Fi",
        ("EAP-TLS needs a machine certificate", "Autoenrollment failed with access denied"),
        "Fix certificate autoenrollment permissions",
        "Granted Domain Computers enroll and autoenroll on the template and ran certutil -pulse.",
        "Missing autoenrollment permission on the certificate template.",
    ),
    S(
        "cert-smtp",
        "certificates",
        "Scanner cannot send scan to email through the relay",
        ("Relay requires TLS", "Scanner firmware rejects the new certificate chain"),
        "Update the scanner firmware",
        "Updated the scanner firmware so it trusts the new chain.",
        "Old firmware without the new root certificate.",
    ),
    # --- Slow PC ---------------------------------------------------------------------------
    S(
        "slow-indexer",
        "slow",
        "Laptop very slow, fan loud, Search Indexer using high CPU",
        ("SearchIndexer.exe at 60 percent CPU", "Index rebuilding endlessly"),
        "Rebuild the search index",
        "Rebuilt the Windows Search index from Indexing Options.",
        "Corrupt search index rebuilding in a loop.",
    ),
    S(
        "slow-startup",
        "slow",
        "PC takes ten minutes to boot to a usable desktop",
        ("25 startup apps enabled", "Boot time 9 minutes in event log"),
        "Disable unneeded startup apps",
        "Disabled 18 startup entries.",
        "Too many startup applications.",
    ),
    S(
        "slow-disk",
        "slow",
        "Computer freezes, disk at 100 percent in Task Manager",
        ("Old spinning hard drive", "SMART shows reallocated sectors"),
        "Replace the failing hard drive with an SSD",
        "Cloned to a new SSD.",
        "Failing hard disk.",
    ),
    # --- Mapped drives ---------------------------------------------------------------------
    S(
        "drives-gpo",
        "drives",
        "Mapped drives do not appear at logon for the new starters",
        ("Drive map GPO uses item-level targeting on a group", "New starters not in the group"),
        "Add new starters to the drive mapping group",
        "Added them to the security group; drives mapped at next logon.",
        "Item-level targeting excluded the new starters.",
    ),
    S(
        "drives-redx",
        "drives",
        "Mapped drives show a red X after every reboot",
        ("Drives reconnect when opened", "Network not ready when the logon script runs"),
        "Enable always wait for the network at logon",
        "Enabled the policy so logon waits for the network.",
        "Drives mapped before the network was ready.",
    ),
    S(
        "drives-smb1",
        "drives",
        "Old NAS share cannot be mapped from Windows 11",
        ("NAS only speaks SMB1", "SMB1 removed from Windows 11"),
        "Upgrade the NAS firmware to SMB2",
        "Updated the NAS firmware and enabled SMB2/3.",
        "SMB1-only NAS.",
    ),
    # --- Email delivery --------------------------------------------------------------------
    S(
        "mail-spf",
        "email",
        "Emails to customers land in spam since the marketing tool was added",
        ("SPF record lacks the marketing tool's include", "DMARC reports show SPF fail"),
        "Add the sender to the SPF record",
        "Added the include to SPF and set up DKIM.",
        "SPF missing a legitimate sender.",
    ),
    S(
        "mail-ndr",
        "email",
        "Messages to a partner bounce with 550 5.7.1 relay denied",
        ("Connector to partner requires TLS", "Certificate name mismatch on the connector"),
        "Fix the outbound connector certificate name",
        "Corrected the TLS certificate domain on the partner connector.",
        "Connector certificate name mismatch.",
    ),
    S(
        "mail-quota",
        "email",
        "User cannot send mail, mailbox full warning",
        ("Mailbox 49.5 of 50 GB", "Archive not enabled"),
        "Enable the online archive",
        "Enabled the archive and an archive policy after two years.",
        "Mailbox at quota without archiving.",
    ),
    # --- Backup ----------------------------------------------------------------------------
    S(
        "backup-vss",
        "backup",
        "Nightly backup job fails with VSS writer errors",
        ("SQL writer in failed state", "vssadmin list writers shows timeouts"),
        "Restart the SQL VSS writer service",
        "Restarted SQL Writer and reran the job.",
        "Hung SQL VSS writer.",
    ),
    S(
        "backup-space",
        "backup",
        "Backups fail because the backup repository is full",
        ("Repository 98 percent full", "Retention set to 90 restore points"),
        "Lower backup retention",
        "Reduced retention to 30 restore points.",
        "Retention longer than the repository allows.",
    ),
    S(
        "backup-cred",
        "backup",
        "Backup to the NAS fails with access denied since Tuesday",
        ("Backup account password was rotated", "Job still uses the old password"),
        "Update the backup job credentials",
        "Updated the stored credential in the backup software.",
        "Rotated password not updated in the job.",
        script="$cred = New-Object PSCredential('svc-backup', (ConvertTo-SecureString "
        "'Winter2026!' -AsPlainText -Force))\nSet-BackupJobCredential -Password 'Winter2026!'",
    ),
)

# Query → the session it must find first.
QUERIES: tuple[tuple[str, str], ...] = (
    ("ost rebuild", "outlook-ost"),
    ("rebuild the ost file", "outlook-ost"),
    ("fortigate dpd", "vpn-dpd"),
    ("fortigte dead peer detecton", "vpn-dpd"),
    ("outlook password prompt after password change", "outlook-password"),
    ("outlok keeps asking pasword", "outlook-password"),
    ("pasword asking keeps outlook", "outlook-password"),
    ("spooler crash", "print-spooler"),
    ("printer offline new ip address", "print-port"),
    ("locked out activesync phone", "lockout-phone"),
    ("scheduled task lockout", "lockout-task"),
    ("winsxs cleanup", "disk-winsxs"),
    ("sql transaction log full", "disk-sqllog"),
    ("onedrive path too long", "onedrive-path"),
    ("sharepoint duplicate files computer name", "onedrive-conflict"),
    ("teams camera not detected", "teams-camera"),
    ("teams echo headset", "teams-echo"),
    ("credssp encryption oracle", "rdp-credssp"),
    ("stale dns record scavenging", "dns-stale"),
    ("forticlient stuck 98", "vpn-98"),
    ("vpn internal names not resolving split dns", "vpn-dns"),
    ("certificate expired internal web app", "cert-expired"),
    ("search indexer high cpu", "slow-indexer"),
    ("mapped drives red x after reboot", "drives-redx"),
    ("spf spam marketing", "mail-spf"),
    ("vss writer backup fails", "backup-vss"),
)

# A new session's problem → the past session "Solved before" must show first.
SIMILAR: tuple[tuple[str, str], ...] = (
    ("Outlook keeps asking for the password after the password change", "outlook-password"),
    ("FortiClient tunnel keeps dropping, FortiGate shows DPD timeouts", "vpn-dpd"),
    ("Spooler service crashed again on reception PC", "print-spooler"),
    ("Locked out repeatedly, source is ActiveSync", "lockout-phone"),
)
