#!/usr/bin/env bash
# Regenerates the spoken prompts in assets/prompts/<lang>/<key>.wav with
# espeak-ng (Debian package espeak-ng) and sox: 8 kHz mono PCM16, leading and
# trailing silence trimmed, normalised to -3 dBFS. Run from the repository
# root; commit the result. Music on hold and the tones come from
# scripts/gen-audio.mjs (synthesised, no third-party audio).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "espeak-ng is missing (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox is missing (apt-get install sox)" >&2; exit 1; }

# key|en|de|ru|it
read -r -d '' PROMPTS <<'TXT' || true
enter-pin|Please enter the conference PIN, followed by the hash key.|Bitte geben Sie die Konferenz-PIN ein, gefolgt von der Raute-Taste.|Пожалуйста, введите пин-код конференции и нажмите решётку.|Inserisci il PIN della conferenza, seguito dal tasto cancelletto.
wrong-pin|That PIN is not correct.|Diese PIN ist nicht korrekt.|Неверный пин-код.|Il PIN non è corretto.
locked-out|Too many wrong attempts. Please try again later. Goodbye.|Zu viele Fehlversuche. Bitte versuchen Sie es später erneut. Auf Wiederhören.|Слишком много неверных попыток. Попробуйте позже. До свидания.|Troppi tentativi errati. Riprova più tardi. Arrivederci.
conference-full|The conference is full. Goodbye.|Die Konferenz ist voll. Auf Wiederhören.|Конференция заполнена. До свидания.|La conferenza è piena. Arrivederci.
not-allowed|You are not allowed to join this conference. Goodbye.|Sie dürfen dieser Konferenz nicht beitreten. Auf Wiederhören.|Вам не разрешено участвовать в этой конференции. До свидания.|Non sei autorizzato a partecipare a questa conferenza. Arrivederci.
alone|You are the only participant in this conference.|Sie sind der einzige Teilnehmer dieser Konferenz.|Вы единственный участник конференции.|Sei l'unico partecipante a questa conferenza.
say-name|Please say your name after the tone.|Bitte nennen Sie nach dem Ton Ihren Namen.|Пожалуйста, назовите своё имя после сигнала.|Pronuncia il tuo nome dopo il segnale acustico.
has-joined|has joined the conference.|ist der Konferenz beigetreten.|присоединился к конференции.|è entrato nella conferenza.
has-left|has left the conference.|hat die Konferenz verlassen.|покинул конференцию.|ha lasciato la conferenza.
goodbye|The conference has ended. Goodbye.|Die Konferenz ist beendet. Auf Wiederhören.|Конференция завершена. До свидания.|La conferenza è terminata. Arrivederci.
muted|You are muted.|Ihr Mikrofon ist stummgeschaltet.|Ваш микрофон выключен.|Il tuo microfono è disattivato.
unmuted|You are no longer muted.|Ihr Mikrofon ist wieder eingeschaltet.|Ваш микрофон включён.|Il tuo microfono è attivo.
room-locked|This conference is locked. Goodbye.|Diese Konferenz ist gesperrt. Auf Wiederhören.|Эта конференция закрыта. До свидания.|Questa conferenza è bloccata. Arrivederci.
transfer-failed-back|The transfer failed. You are back with your caller.|Die Weiterleitung ist fehlgeschlagen. Sie sind wieder mit Ihrem Gesprächspartner verbunden.|Перевод не удался. Вы снова на связи с собеседником.|Il trasferimento non è riuscito. Sei di nuovo in linea con il chiamante.
transfer-failed-goodbye|Sorry, the transfer failed. Goodbye.|Leider ist die Weiterleitung fehlgeschlagen. Auf Wiederhören.|К сожалению, перевод не удался. До свидания.|Spiacenti, il trasferimento non è riuscito. Arrivederci.
leave-message|Please leave a message after the tone.|Bitte hinterlassen Sie nach dem Ton eine Nachricht.|Пожалуйста, оставьте сообщение после сигнала.|Lascia un messaggio dopo il segnale acustico.
message-saved|Your message has been saved. Goodbye.|Ihre Nachricht wurde gespeichert. Auf Wiederhören.|Ваше сообщение сохранено. До свидания.|Il tuo messaggio è stato salvato. Arrivederci.
TXT

LANGS=(en de ru it)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS='|' read -r key en de ru it; do
	[ -z "$key" ] && continue
	texts=("$en" "$de" "$ru" "$it")
	for i in 0 1 2 3; do
		lang=${LANGS[$i]}
		mkdir -p "assets/prompts/$lang"
		espeak-ng -v "$lang" -s 150 -w "$tmp/raw.wav" "${texts[$i]}"
		sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "assets/prompts/$lang/$key.wav" \
			silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3
	done
done <<< "$PROMPTS"
echo "prompts written to assets/prompts/{${LANGS[*]}}"
