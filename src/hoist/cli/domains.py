"""domains, domains:add, domains:remove, certs, certs:add, certs:remove, certs:auto*, maintenance*."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, table


@click.command("domains")
@app_option
@pass_ctx
def domains(c: CliContext) -> None:
    """List the app's domains: its default address and custom domains with their DNS target."""
    app = c.app()
    items = c.client().get_all(f"/apps/{app}/domains")
    default = [d for d in items if d["kind"] == "heroku"]
    custom = [d for d in items if d["kind"] == "custom"]
    header(f"{app} default domain")
    for d in default:
        click.echo(d["hostname"])
    if custom:
        click.echo()
        header(f"{app} custom domains")
        table(["Domain Name", "DNS Record Type", "DNS Target", "SNI Endpoint"],
              [[d["hostname"], "CNAME", d["cname"], (d["sni_endpoint"] or {}).get("name", "")] for d in custom])


@click.command("domains:add")
@app_option
@click.argument("hostname")
@pass_ctx
def domains_add(c: CliContext, hostname: str) -> None:
    """Route HOSTNAME (e.g. www.example.com) to the app."""
    app = c.app()
    click.echo(f"Adding {hostname} to {app}... ", nl=False)
    d = c.client().post(f"/apps/{app}/domains", {"hostname": hostname})
    click.echo("done")
    click.echo(f"Point {d['hostname']}'s DNS at this machine (a CNAME to {d['cname']}, or an A record), "
               f"then add a certificate with `hoist certs:add CERT KEY` or `hoist certs:auto:enable`.")


@click.command("domains:remove")
@app_option
@click.argument("hostname")
@pass_ctx
def domains_remove(c: CliContext, hostname: str) -> None:
    """Stop routing HOSTNAME to the app."""
    app = c.app()
    click.echo(f"Removing {hostname} from {app}... ", nl=False)
    c.client().delete(f"/apps/{app}/domains/{quote(hostname, safe='')}")
    click.echo("done")


def _trust_help(ca_path: str, tls_port: int) -> None:
    header("hoist's local certificate authority")
    click.echo(f"CA certificate: {ca_path}")
    click.echo(f"HTTPS port: {tls_port} (https://APP.localhost:{tls_port}/)")
    click.echo("Trust it once and every hoist URL is valid HTTPS:")
    click.echo(f"  Debian/Ubuntu: sudo cp {ca_path} /usr/local/share/ca-certificates/hoist.crt "
               "&& sudo update-ca-certificates")
    click.echo(f"  curl:          curl --cacert {ca_path} https://APP.localhost:{tls_port}/")
    click.echo(f"  git:           git config --global http.sslCAInfo {ca_path}")
    click.echo(f"  Python:        SSL_CERT_FILE / REQUESTS_CA_BUNDLE={ca_path}")
    click.echo(f"  Node:          NODE_EXTRA_CA_CERTS={ca_path}")
    click.echo("  Browsers:      Firefox: Settings > Certificates > View Certificates > Authorities > Import; "
               "Chrome/Chromium: Settings > Privacy and security > Security > Manage certificates > Authorities")


@click.command("certs")
@app_option
@pass_ctx
def certs(c: CliContext) -> None:
    """Show the local CA (and how to trust it) and the app's installed certificates with expiry."""
    client = c.client()
    info = client.get("/hoist/tls")
    _trust_help(info["ca_path"], info["tls_port"])
    try:
        app = c.app()
    except HoistError:
        return  # no app here: the CA is all there is to show
    endpoints = client.get(f"/apps/{app}/sni-endpoints")
    click.echo()
    header(f"{app} certificates")
    if not endpoints:
        click.echo("None installed: the app's domains use certificates from the local CA. "
                   "Add one with `hoist certs:add CERT KEY` or `hoist certs:auto:enable`.")
        return
    table(["Name", "Common Name(s)", "Expires", "Trusted", "Type", "Domains"],
          [[e["name"], ", ".join(e["ssl_cert"]["cert_domains"]), e["ssl_cert"]["expires_at"],
            "True", "ACM" if e["ssl_cert"]["acm"] else "SNI", ", ".join(e["domains"])] for e in endpoints])


@click.command("certs:add")
@app_option
@click.argument("cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--domain", help="the app's domain this certificate is for (checked against the certificate)")
@pass_ctx
def certs_add(c: CliContext, cert: Path, key: Path, domain: str | None) -> None:
    """Install a certificate chain CERT (PEM, leaf first) and its private KEY for the app's domains."""
    app = c.app()
    body: dict[str, str] = {"certificate_chain": cert.read_text(), "private_key": key.read_text()}
    if domain:
        body["domain"] = domain
    click.echo(f"Adding SSL certificate to {app}... ", nl=False)
    e = c.client().post(f"/apps/{app}/sni-endpoints", body)
    click.echo("done")
    click.echo(f"{e['name']}: {', '.join(e['ssl_cert']['cert_domains'])}, expires {e['ssl_cert']['expires_at']}; "
               f"serving {', '.join(e['domains']) or 'none of the app domains yet (add them with domains:add)'}")


@click.command("certs:remove")
@app_option
@click.argument("name")
@pass_ctx
def certs_remove(c: CliContext, name: str) -> None:
    """Remove an installed certificate (by name, see `hoist certs`)."""
    app = c.app()
    c.client().delete(f"/apps/{app}/sni-endpoints/{quote(name, safe='')}")
    click.echo(f"Removed {name} from {app}; its domains now use local-CA certificates.")


@click.command("certs:auto")
@app_option
@pass_ctx
def certs_auto(c: CliContext) -> None:
    """Show automated certificate (ACME) status for the app's custom domains."""
    app = c.app()
    items = [d for d in c.client().get_all(f"/apps/{app}/domains") if d["kind"] == "custom"]
    if not items:
        click.echo(f"{app} has no custom domains; add one with `hoist domains:add`.")
        return
    table(["Domain", "Status", "Reason"],
          [[d["hostname"], d["acm_status"] or "disabled", d.get("acm_status_reason") or ""] for d in items])


@click.command("certs:auto:enable")
@app_option
@pass_ctx
def certs_auto_enable(c: CliContext) -> None:
    """Get and renew certificates for the app's custom domains with ACME (Let's Encrypt)."""
    app = c.app()
    c.client().post(f"/apps/{app}/acm")
    click.echo(f"Enabled automatic certificates for {app}. The domains must resolve to this machine and "
               "port 80 must reach hoist's router; see `hoist certs:auto` for progress.")


@click.command("certs:auto:disable")
@app_option
@pass_ctx
def certs_auto_disable(c: CliContext) -> None:
    """Stop managing the app's certificates with ACME."""
    app = c.app()
    c.client().delete(f"/apps/{app}/acm")
    click.echo(f"Disabled automatic certificates for {app}.")


def _maintenance(c: CliContext, on: bool) -> None:
    app = c.app()
    click.echo(f"{'Enabling' if on else 'Disabling'} maintenance mode for {app}... ", nl=False)
    c.client().patch(f"/apps/{app}", {"maintenance": on})
    click.echo("done")


@click.command("maintenance")
@app_option
@pass_ctx
def maintenance(c: CliContext) -> None:
    """Show whether the app is in maintenance mode."""
    click.echo("on" if c.client().get(f"/apps/{c.app()}")["maintenance"] else "off")


@click.command("maintenance:on")
@app_option
@pass_ctx
def maintenance_on(c: CliContext) -> None:
    """Serve a 503 maintenance page (H80) instead of the app."""
    _maintenance(c, True)


@click.command("maintenance:off")
@app_option
@pass_ctx
def maintenance_off(c: CliContext) -> None:
    """Serve the app again."""
    _maintenance(c, False)


COMMANDS = [domains, domains_add, domains_remove, certs, certs_add, certs_remove, certs_auto,
            certs_auto_enable, certs_auto_disable, maintenance, maintenance_on, maintenance_off]
