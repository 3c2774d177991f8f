import pytest

from entrypoint.settings.smtp_password import ses_smtp_password

AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("region", "password"),
    [
        ("us-east-1", "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"),
        ("us-west-2", "BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd"),
        ("eu-west-1", "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk"),
    ],
)
def test_documented_test_vectors(region, password):
    assert ses_smtp_password(AWS_EXAMPLE_SECRET, region) == password


def test_password_is_region_specific_and_44_characters():
    east = ses_smtp_password("another-secret", "us-east-1")
    west = ses_smtp_password("another-secret", "us-west-2")
    assert east != west
    assert len(east) == 44 and east.startswith("B")
