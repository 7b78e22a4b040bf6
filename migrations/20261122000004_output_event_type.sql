-- Every stored event names its message type, so the live channel can send
-- payloads as they are. Output events written before they carried one get it.
update events set payload = '{"type":"output",' || substr(payload, 2)
where kind = 'output' and payload not like '%"type":"output"}';
