from entrypoint.hosts_file import ensure_own_name_resolves

DOCKER_HOST_NETWORK_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"


def test_missing_host_name_is_added(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text(DOCKER_HOST_NETWORK_HOSTS)
    assert ensure_own_name_resolves(hosts, "vm") is True
    assert hosts.read_text().startswith(DOCKER_HOST_NETWORK_HOSTS)
    assert hosts.read_text().splitlines()[-1].split()[:2] == ["127.0.1.1", "vm"]
    # Idempotent: a restart of the same container adds nothing.
    assert ensure_own_name_resolves(hosts, "vm") is False
    assert hosts.read_text().count("vm") == 1


def test_a_name_docker_already_listed_is_left_alone(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text(DOCKER_HOST_NETWORK_HOSTS + "172.17.0.2\t558198ac1b4e")  # no final newline
    assert ensure_own_name_resolves(hosts, "558198AC1B4E") is False
    assert ensure_own_name_resolves(hosts, "other") is True
    assert hosts.read_text().splitlines()[-2:] == [
        "172.17.0.2\t558198ac1b4e",
        "127.0.1.1\tother\t# added by ses-relay: SASL looks this name up for every login",
    ]


def test_commented_names_do_not_count(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# 127.0.1.1 vm\n")
    assert ensure_own_name_resolves(hosts, "vm") is True
