"""`JsonPacket`: JSON without the binary walk, bytes still encoded as attachments."""

from __future__ import annotations

from socketio import packet

from realtime.manager import JsonPacket


def test_json_payloads_encode_as_the_library_does() -> None:
    data = ["update", {"type": "poll_progress", "data": {"voted": 3, "names": ["Nguyễn Văn A"]}}]
    for kind in (packet.EVENT, packet.ACK):
        ours = JsonPacket(kind, data=data, namespace="/", id=7 if kind == packet.ACK else None)
        theirs = packet.Packet(kind, data=data, namespace="/", id=ours.id)
        assert ours.encode() == theirs.encode()
        assert ours.packet_type == kind


def test_bytes_fall_back_to_binary_attachments() -> None:
    data = ["file", {"name": "a.bin", "body": b"\x00\xff"}]
    ours = JsonPacket(packet.EVENT, data=data, namespace="/")
    encoded = ours.encode()
    assert encoded == packet.Packet(packet.EVENT, data=data, namespace="/").encode()
    assert ours.packet_type == packet.BINARY_EVENT
    assert encoded[1] == b"\x00\xff"
    ack = JsonPacket(packet.ACK, data=[b"x"], namespace="/", id=2)
    assert ack.encode()[0].startswith("61-2") and ack.packet_type == packet.BINARY_ACK


def test_incoming_packets_decode_as_before() -> None:
    pkt = JsonPacket(encoded_packet='2["ballot.cast",{"poll_id":1,"choice":"yes"}]')
    assert pkt.packet_type == packet.EVENT
    assert pkt.data == ["ballot.cast", {"poll_id": 1, "choice": "yes"}]
    binary = JsonPacket(encoded_packet='51-["up",{"_placeholder":true,"num":0}]')
    assert binary.packet_type == packet.BINARY_EVENT and binary.attachment_count == 1
